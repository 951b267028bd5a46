using System.Globalization;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Gatehouse.Accounts;
using Npgsql;

namespace Gatehouse.Bench;

/// <summary>
/// A fresh database with one merchant, 10,000 viewers, 1,000 assets, 20 packages and 1,000,000 passes; the first
/// 64 viewers sign in through the API and hold live passes for the first 20 assets (the access-check targets).
/// </summary>
public sealed class BenchData(string connectionString)
{
    public const int Viewers = 10_000, Items = 1_000, Passes = 1_000_000, TokenHolders = 64, TargetItems = 20;
    private const string Password = "bench-password-1";

    public string ConnectionString => connectionString;
    public long MerchantId { get; private set; }
    public Guid MerchantUuid { get; } = Guid.NewGuid();
    public string Secret { get; } = RotateApiSecret.NewSecret();
    public string MerchantToken { get; private set; } = "";
    public long FirstViewerId { get; private set; }
    public long FirstItemId { get; private set; }
    public string[] ViewerTokens { get; private set; } = [];

    public static async Task<BenchData> Reset(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var database = builder.Database!;
        builder.Database = "postgres";
        await using var admin = new NpgsqlConnection(builder.ConnectionString);
        await admin.OpenAsync();
        await admin.ExecuteAsync($"drop database if exists \"{database}\" with (force)");
        await admin.ExecuteAsync($"create database \"{database}\"");
        return new BenchData(connectionString);
    }

    /// <summary>
    /// Brings the database to rest before a scenario: every table vacuumed and analyzed, every dirty page written. A
    /// scenario then measures itself, not autovacuum and the checkpoint catching up with the previous one's writes (a
    /// million passes seeded, 100,000 granted, 100,000 codes), which on 2 cores cut the webhook throughput to 918/s
    /// (3,208/s at rest) and pushed the access check's p99 to 12-18 ms.
    /// </summary>
    public async Task Settle()
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var vacuum = new NpgsqlCommand("vacuum (analyze)", connection) { CommandTimeout = 600 })
            await vacuum.ExecuteNonQueryAsync();
        await using (var checkpoint = new NpgsqlCommand("checkpoint", connection) { CommandTimeout = 600 })
            await checkpoint.ExecuteNonQueryAsync();
    }

    /// <summary>The merchant alone, with its API token: all that scenarios without the catalog need.</summary>
    public async Task SeedMerchant(string baseUrl)
    {
        await InsertMerchant();
        using var client = new HttpClient { BaseAddress = new Uri(baseUrl) };
        MerchantToken = await Token(client, new() { ["grant_type"] = "client_credentials", ["client_id"] = MerchantUuid.ToString(), ["client_secret"] = Secret });
    }

    private async Task InsertMerchant()
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        MerchantId = await connection.ExecuteScalarAsync<long>(
            "insert into accounts.merchants (uuid, name, email, api_secret, created_at, updated_at) values (@MerchantUuid, 'Bench Media', 'bench@media.test', @Secret, now(), now()) returning id",
            new { MerchantUuid, Secret });
    }

    public async Task Seed(string baseUrl)
    {
        var clock = Stopwatch.StartNew();
        await InsertMerchant();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        FirstViewerId = await connection.ExecuteScalarAsync<long>(
            """
            insert into accounts.consumers (merchant_id, uuid, email, full_name, password_hash, created_at, updated_at)
            select @MerchantId, gen_random_uuid(), 'viewer' || n || '@example' || (n % 50) || '.com', 'Viewer ' || n,
                   case when n <= @TokenHolders then @hash end, now() - (n || ' minutes')::interval, now()
            from generate_series(1, @Viewers) n
            returning id
            """, new { MerchantId, TokenHolders, Viewers, hash = await Passwords.Hash(Password) });
        FirstViewerId = await connection.ExecuteScalarAsync<long>("select min(id) from accounts.consumers where merchant_id = @MerchantId", new { MerchantId });
        await connection.ExecuteAsync(
            """
            insert into access.items (merchant_id, title, item_type, content, created_at, updated_at)
            select @MerchantId, 'Asset ' || n, 'video', 'https://cdn.example/stream/' || n || '.m3u8', now(), now()
            from generate_series(1, @Items) n
            """, new { MerchantId, Items });
        FirstItemId = await connection.ExecuteScalarAsync<long>("select min(id) from access.items where merchant_id = @MerchantId", new { MerchantId });
        await connection.ExecuteAsync(
            """
            insert into access.packages (merchant_id, title, created_at, updated_at)
            select @MerchantId, 'Package ' || n, now(), now() from generate_series(1, 20) n;
            insert into access.package_items (merchant_id, package_id, item_id, added_at)
            select @MerchantId, p.id, @FirstItemId + 100 + (dense_rank() over (order by p.id) - 1) * 10 + k, now()
            from access.packages p cross join generate_series(0, 9) k where p.merchant_id = @MerchantId;
            """, new { MerchantId, FirstItemId });
        // A million passes of every kind, created over two years, each lasting 1 to 90 days; a tenth revoked.
        connection.Execute("set statement_timeout = 0");
        await connection.ExecuteAsync(
            """
            insert into access.passes (merchant_id, consumer_id, item_id, type, source, starts_at, expires_at, revoked_at, created_at, updated_at)
            select @MerchantId, @FirstViewerId + (random() * (@Viewers - 1))::int, @FirstItemId + (random() * (@Items - 1))::int,
                   (array['purchased','granted','access-voucher','full-discount'])[1 + (n % 4)], 'api',
                   t - interval '1 day', t + ((n % 90) + 1) * interval '1 day', case when n % 10 = 0 then t end, t, t
            from (select n, now() - (random() * 700) * interval '1 day' as t from generate_series(1, @Passes) n) s
            """, new { MerchantId, FirstViewerId, FirstItemId, Viewers, Items, Passes }, commandTimeout: 600);
        await connection.ExecuteAsync(
            """
            insert into access.passes (merchant_id, consumer_id, item_id, type, source, starts_at, expires_at, created_at, updated_at)
            select @MerchantId, @FirstViewerId + v, @FirstItemId + i, 'granted', 'admin', now() - interval '1 day', now() + interval '365 days', now(), now()
            from generate_series(0, @TokenHolders - 1) v cross join generate_series(0, @TargetItems - 1) i
            """, new { MerchantId, FirstViewerId, FirstItemId, TokenHolders, TargetItems });

        using var client = new HttpClient { BaseAddress = new Uri(baseUrl) };
        MerchantToken = await Token(client, new() { ["grant_type"] = "client_credentials", ["client_id"] = MerchantUuid.ToString(), ["client_secret"] = Secret });
        var tokens = new List<string>();
        for (var v = 0; v < TokenHolders; v++)
            tokens.Add(await Token(client, new() { ["grant_type"] = "password", ["client_id"] = MerchantUuid.ToString(), ["username"] = $"viewer{v + 1}@example{(v + 1) % 50}.com", ["password"] = Password }));
        ViewerTokens = tokens.ToArray();
        Console.WriteLine($"seeded {Viewers:N0} viewers, {Items:N0} assets, {Passes:N0} passes in {clock.Elapsed.TotalSeconds:0.0} s");
    }

    private static async Task<string> Token(HttpClient client, Dictionary<string, string> form)
    {
        var response = await client.PostAsync("/accounts/authenticate", new FormUrlEncodedContent(form));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"sign-in failed: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    public HttpClient Client(string baseUrl, string token, int connections = 8)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Runs a psql script on the bench database (stopping at the first error); answers how long psql took.</summary>
    public double Psql(string pgBin, string script)
    {
        var (host, port, user, password, database) = Server();
        var file = Path.GetTempFileName();
        File.WriteAllText(file, script);
        var start = new ProcessStartInfo(Path.Combine(pgBin, "psql"), $"-h {host} -p {port} -U {user} -d {database} -v ON_ERROR_STOP=1 -q -f {file}")
        { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["PGPASSWORD"] = password;
        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException("psql failed: " + output);
        return stopwatch.Elapsed.TotalSeconds;
    }

    /// <summary>pgbench running a script file, prepared, at the given clients on 2 threads for the given seconds; answers
    /// its tps. With a log directory, each transaction's latency is logged there (-l).</summary>
    public double PgBench(string pgBin, string script, int clients, int seconds, string? logDirectory = null)
    {
        var (host, port, user, password, database) = Server();
        var start = new ProcessStartInfo(Path.Combine(pgBin, "pgbench"),
            $"-h {host} -p {port} -U {user} -n -M prepared -c {clients} -j 2 -T {seconds}{(logDirectory is null ? "" : " -l")} -f {script} {database}")
        { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = logDirectory ?? Path.GetTempPath() };
        start.Environment["PGPASSWORD"] = password;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        var match = Regex.Match(output, @"tps = ([\d.]+) \(without initial connection time\)");
        if (!match.Success) throw new InvalidOperationException("pgbench failed:\n" + output);
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    public (string Host, int Port, string User, string Password, string Database) Server()
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        return (b.Host ?? "127.0.0.1", b.Port, b.Username ?? "postgres", b.Password ?? "", b.Database!);
    }
}
