using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;
using Microsoft.Extensions.Configuration;

namespace Gatehouse.Kernel;

/// <summary>
/// Behind a load balancer every request comes from the balancer's address, so the per-address limits (sign-in,
/// voucher guesses) would count all clients as one. Proxies:Trusted lists the proxies (addresses or CIDR networks,
/// comma-separated) whose X-Forwarded-For and X-Forwarded-Proto are believed; nobody else's are, so a client cannot
/// pick its own address. Unset, the headers are ignored.
/// </summary>
public static class TrustedProxies
{
    public static WebApplication UseTrustedProxies(this WebApplication app)
    {
        var networks = Parse(app.Configuration["Proxies:Trusted"]);
        if (networks.Count == 0) return app;
        var options = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            // A chain of trusted proxies is walked from the right; the first address not trusted is the client.
            ForwardLimit = null,
        };
        options.KnownProxies.Clear(); // the default trusts loopback; only what is configured is trusted
        options.KnownIPNetworks.Clear();
        foreach (var network in networks) options.KnownIPNetworks.Add(network);
        app.UseForwardedHeaders(options);
        return app;
    }

    /// <summary>"10.0.0.0/8, 192.0.2.7" → the networks; a bare address is a network of one. A bad entry stops start-up.</summary>
    public static IReadOnlyList<IPNetwork> Parse(string? setting) =>
        (setting ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(entry => entry.Contains('/') ? IPNetwork.Parse(entry)
                : IPAddress.TryParse(entry, out var address) ? new IPNetwork(address, address.GetAddressBytes().Length * 8)
                : throw new InvalidOperationException($"Proxies:Trusted: '{entry}' is not an address or a network (10.0.0.0/8)"))
            .ToList();
}
