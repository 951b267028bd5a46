using System.Net;
using System.Net.Sockets;
using Gatehouse.Kernel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Gatehouse.Webhooks;

/// <summary>
/// Where deliveries may go. Private, loopback, link-local and other internal addresses are refused unless the operator
/// allows them (Webhooks:AllowPrivateTargets, on in Development and in the tests): a URL is checked when it is saved,
/// and every connection is checked again after DNS resolution, so a name that later resolves inward is refused too.
/// </summary>
public sealed class WebhookTargets(IConfiguration configuration, IHostEnvironment environment)
{
    public bool AllowPrivate { get; } = configuration.GetValue("Webhooks:AllowPrivateTargets", environment.IsDevelopment());

    public TimeSpan Timeout { get; } = TimeSpan.FromSeconds(configuration.GetValue("Webhooks:TimeoutSeconds", 15.0));

    /// <summary>The URL as saved: absolute http(s), no credentials, and not an internal address unless allowed.</summary>
    public Uri Check(string? url)
    {
        if (string.IsNullOrWhiteSpace(url) || url.Length > 2000 || !Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
            throw ApiException.Invalid("url", "must be an absolute http or https URL");
        if (!string.IsNullOrEmpty(uri.UserInfo)) throw ApiException.Invalid("url", "must not carry a user name or password");
        if (!AllowPrivate && (uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out var ip) && IsInternal(ip))))
            throw ApiException.Invalid("url", "points to a private or loopback address, which this server does not deliver to");
        return uri;
    }

    /// <summary>The handler every delivery goes through: connections checked after resolution, a bounded number per endpoint.</summary>
    public SocketsHttpHandler Handler() => new()
    {
        MaxConnectionsPerServer = WebhookDispatcher.PerEndpoint,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        AllowAutoRedirect = false,
        // A proxy would make the connect-time address check apply to the proxy, not the target.
        UseProxy = false,
        ConnectTimeout = Timeout,
        ConnectCallback = async (context, cancellation) =>
        {
            var addresses = await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellation);
            var allowed = AllowPrivate ? addresses : addresses.Where(a => !IsInternal(a)).ToArray();
            if (allowed.Length == 0) throw new HttpRequestException($"{context.DnsEndPoint.Host} resolves to a private or loopback address");
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellation);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    public static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return true;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast;
        var b = address.GetAddressBytes();
        return b[0] is 10 or 127 or 0 || b[0] >= 224
            || (b[0] == 172 && b[1] is >= 16 and <= 31)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && b[1] is >= 64 and <= 127);
    }
}
