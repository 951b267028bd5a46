using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// The app on a real Kestrel port of 127.0.0.1, on its own fresh database: for the browser and for the
/// InPlayer JS SDK, which need a real HTTP server.
/// </summary>
public class ServerFixture : IAsyncLifetime
{
    private Factory _factory = null!;
    public string BaseUrl { get; private set; } = "";
    public string ConnectionString { get; private set; } = "";
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
    public IServiceProvider Services => _factory.Services;
    public NpgsqlDataSource Db => Services.GetRequiredService<NpgsqlDataSource>();

    public virtual async Task InitializeAsync()
    {
        ConnectionString = await TestDatabase.CreateAsync();
        _factory = new Factory(ConnectionString, Clock);
        _factory.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        await Task.Run(_factory.StartServer); // it blocks: off the socket event thread (AppFixture.StartHost)
        BaseUrl = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
            .Addresses.First().TrimEnd('/');
    }

    public virtual async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await TestDatabase.DropAsync(ConnectionString);
    }

    private sealed class Factory(string connectionString, TimeProvider clock) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder) =>
            AppFixture.Configure(builder, connectionString, clock, new Dictionary<string, string?>());
    }
}
