using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Gatehouse.Accounts;
using Npgsql;

namespace Gatehouse.Tests.Infrastructure;

public sealed record TestMerchant(long Id, Guid Uuid, string Secret, string AdminEmail, string AdminPassword);

public sealed record TestConsumer(long Id, string Email, string Password, string AccessToken, string RefreshToken);

/// <summary>Test data: merchants written straight to the database (there is no merchant sign-up API), the rest through the API.</summary>
public static class Given
{
    public const string Password = "correct-horse-1";
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, int> ConsumerCounters = new();

    public static async Task<TestMerchant> Merchant(NpgsqlDataSource db, string name = "Test Media")
    {
        var uuid = Guid.NewGuid();
        var secret = RotateApiSecret.NewSecret();
        var adminEmail = $"admin-{uuid:N}@merchant.test";
        await using var connection = await db.OpenConnectionAsync();
        var id = await connection.ExecuteScalarAsync<long>(
            """
            insert into accounts.merchants (uuid, name, email, api_secret, created_at, updated_at)
            values (@uuid, @name, 'owner@merchant.test', @secret, now(), now()) returning id
            """, new { uuid, name, secret });
        await connection.ExecuteAsync(
            """
            insert into accounts.admin_users (merchant_id, email, full_name, password_hash, created_at)
            values (@id, @adminEmail, 'Test Admin', @hash, now())
            """, new { id, adminEmail, hash = await Passwords.Hash(Password) });
        return new TestMerchant(id, uuid, secret, adminEmail, Password);
    }

    public static async Task<string> MerchantToken(IAlbaHost host, TestMerchant merchant)
    {
        var result = await host.Scenario(x =>
        {
            x.Post.FormData(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials", ["client_id"] = merchant.Uuid.ToString(), ["client_secret"] = merchant.Secret,
            }).ToUrl("/accounts/authenticate");
        });
        return JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.GetProperty("access_token").GetString()!;
    }

    public static async Task<TestConsumer> Consumer(IAlbaHost host, TestMerchant merchant, string? email = null)
    {
        // Numbered per merchant, so snapshots that show the email are stable.
        email ??= $"viewer{ConsumerCounters.AddOrUpdate(merchant.Uuid, 1, (_, n) => n + 1)}@mail.test";
        var result = await host.Scenario(x =>
        {
            x.Post.FormData(new Dictionary<string, string>
            {
                ["full_name"] = "Test Viewer", ["username"] = email, ["password"] = Password,
                ["password_confirmation"] = Password, ["client_id"] = merchant.Uuid.ToString(), ["type"] = "consumer",
            }).ToUrl("/accounts");
            x.StatusCodeShouldBe(201);
        });
        var body = JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement;
        return new TestConsumer(body.GetProperty("account").GetProperty("id").GetInt64(), email, Password,
            body.GetProperty("access_token").GetString()!, body.GetProperty("refresh_token").GetString()!);
    }

    /// <summary>A fresh viewer token (after the clock has moved past an old one's expiry, say).</summary>
    public static async Task<string> SignIn(IAlbaHost host, TestMerchant merchant, TestConsumer consumer)
    {
        var result = await host.Scenario(x => x.Post.FormData(new Dictionary<string, string>
        {
            ["grant_type"] = "password", ["client_id"] = merchant.Uuid.ToString(), ["username"] = consumer.Email, ["password"] = consumer.Password,
        }).ToUrl("/accounts/authenticate"));
        return JsonDocument.Parse(await result.ReadAsTextAsync()).RootElement.GetProperty("access_token").GetString()!;
    }
}
