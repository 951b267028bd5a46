using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>The app in memory (Alba) on its own fresh database, with a clock the tests move.</summary>
public class AppFixture : IAsyncLifetime
{
    public IAlbaHost Host { get; private set; } = null!;
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    public string ConnectionString { get; private set; } = "";
    public NpgsqlDataSource Db => Host.Services.GetRequiredService<NpgsqlDataSource>();

    /// <summary>Settings a fixture subclass changes (rate limits, for example).</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    /// <summary>Services a fixture subclass adds or replaces.</summary>
    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    public async Task InitializeAsync()
    {
        ConnectionString = await TestDatabase.CreateAsync();
        Host = await StartHost(builder => Configure(builder, ConnectionString, Clock, Settings, ConfigureServices));
    }

    /// <summary>Starts an app host on a thread-pool thread. Starting blocks until the app is up, and the app reads the
    /// database on the way; blocking the socket event thread an awaited query may have left the caller on (inline
    /// completions, as the app runs) would stop those reads from ever completing.</summary>
    public static Task<IAlbaHost> StartHost(Action<IWebHostBuilder> configure) => Task.Run(() => AlbaHost.For<Program>(configure));

    internal static void Configure(IWebHostBuilder builder, string connectionString, TimeProvider clock,
        IDictionary<string, string?> settings, Action<IServiceCollection>? configureServices = null)
    {
        builder.UseEnvironment("Production"); // as ./gatehouse run serves it
        builder.UseSetting("GATEHOUSE_DB", connectionString);
        builder.UseSetting("RateLimits:SignInPerMinute", "0");
        builder.UseSetting("Webhooks:AllowPrivateTargets", "true"); // the tests' receivers listen on loopback
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton(clock);
            services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
            configureServices?.Invoke(services);
        });
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await TestDatabase.DropAsync(ConnectionString);
    }
}
