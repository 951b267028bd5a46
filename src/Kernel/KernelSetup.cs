using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Kernel;

public static class KernelSetup
{
    /// <summary>The database, JSON conventions, the clock, rate limits and idempotency keys every module relies on.</summary>
    public static WebApplicationBuilder AddKernel(this WebApplicationBuilder builder)
    {
        var connectionString = Database.ConnectionString(builder.Configuration);
        builder.Services.AddDatabase(connectionString);
        builder.Services.Configure<JsonOptions>(o => Json.Configure(o.SerializerOptions));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddRateLimits(builder.Configuration);
        builder.Services.AddSharedDataProtection(connectionString);
        builder.Services.AddTransient<PruneIdempotencyKeys>();
        return builder;
    }
}
