using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Kernel;

/// <summary>
/// Per-address limits, answered with 429 in the error shape and a Retry-After header.
/// Limits come from configuration (RateLimits:SignInPerMinute, RateLimits:ApiPerMinute; 0 turns a limit off).
/// Per-account limits that must hold across instances live in the database, next to their use case.
/// </summary>
public static class RateLimits
{
    /// <summary>Sign-in, registration and token calls: per client address.</summary>
    public const string SignIn = "sign-in";

    public static IServiceCollection AddRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var signInPerMinute = configuration.GetValue("RateLimits:SignInPerMinute", 30);
        var apiPerMinute = configuration.GetValue("RateLimits:ApiPerMinute", 0);

        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = async (context, token) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                    context.HttpContext.Response.Headers.RetryAfter =
                        ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                if (context.HttpContext.Request.Path.StartsWithSegments("/admin"))
                {
                    context.HttpContext.Response.ContentType = "text/html; charset=utf-8";
                    await context.HttpContext.Response.WriteAsync(
                        "<!DOCTYPE html><title>Too many attempts</title><p>Too many sign-in attempts from your address. Wait a minute and <a href=\"/admin/login\">try again</a>.</p>",
                        token);
                    return;
                }
                await ApiErrors.WriteAsync(context.HttpContext, 429, "Too many requests, retry later");
            };

            // Only attempts count: loading the login page is free.
            options.AddPolicy(SignIn, context => HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)
                ? RateLimitPartition.GetNoLimiter("read")
                : Window(ClientAddress(context), signInPerMinute));

            if (apiPerMinute > 0)
                options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                    Window(ClientAddress(context), apiPerMinute));
        });
        return services;
    }

    /// <summary>The client address limits are kept per (also by the database-backed ones, such as voucher guesses).</summary>
    public static string ClientAddress(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "local";

    private static RateLimitPartition<string> Window(string key, int perMinute) => perMinute <= 0
        ? RateLimitPartition.GetNoLimiter(key)
        : RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = perMinute,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        });
}
