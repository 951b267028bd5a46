using System.Reflection;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Gatehouse.Accounts;

/// <summary>
/// For the run command: applies db/seed (embedded as "seed/*.sql", idempotent) and returns what a new
/// user needs to start: the admin login and a ready-to-use merchant bearer token.
/// </summary>
public static class DemoSeed
{
    public const string MerchantUuid = "3b9d5c4e-7f61-4a8e-9d2b-6c1e0f4a7b52";
    public const string AdminEmail = "admin@demo-media.test";
    public const string AdminPassword = "gatehouse-demo"; // its hash is in db/seed/0001_demo_merchant.sql

    /// <summary>Runs the seed and prints what it returns. A seed that fails stops the app, as a failed start would.</summary>
    public static async Task Print(IServiceProvider services, Assembly seedAssembly, string baseUrl)
    {
        try
        {
            Console.WriteLine(await Run(services, seedAssembly, baseUrl));
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"Seeding the demo merchant failed: {e}");
            services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        }
    }

    public static async Task<string> Run(IServiceProvider services, Assembly seedAssembly, string baseUrl)
    {
        var db = services.GetRequiredService<NpgsqlDataSource>();
        var tokens = services.GetRequiredService<Tokens>();
        await using var connection = await db.OpenConnectionAsync();
        foreach (var script in Migrations.Scripts(seedAssembly, "seed/"))
            await connection.ExecuteAsync(script.Contents);

        var merchant = await connection.QuerySingleAsync<(long Id, Guid Uuid, string ApiSecret)>(
            "select id, uuid, api_secret from accounts.merchants where uuid = @uuid", new { uuid = Guid.Parse(MerchantUuid) });
        await using var transaction = await connection.BeginTransactionAsync();
        var (access, _, expires) = await tokens.StartSession(connection, transaction, merchant.Id, merchant.Uuid, null);
        await transaction.CommitAsync();

        return $"""

            ================================================================
             Gatehouse is running on {baseUrl}
               API reference  {baseUrl}/scalar
               Admin          {baseUrl}/admin
                 login        {AdminEmail}
                 password     {AdminPassword}
               Merchant (client_id)  {merchant.Uuid}
               API client secret     {merchant.ApiSecret}
               Merchant bearer token (valid until {DateTimeOffset.FromUnixTimeSeconds(expires):yyyy-MM-dd}):
            {access}

               Try: curl -H "Authorization: Bearer $TOKEN" {baseUrl}/accounts
            ================================================================

            """;
    }
}
