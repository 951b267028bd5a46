using System.Diagnostics;
using System.Globalization;
using System.Net;
using Dapper;
using Npgsql;

namespace Gatehouse.Bench;

/// <summary>
/// Voucher redemptions (POST /v2/vouchers/redeem, an access voucher granting a pass) two ways. Distinct vouchers:
/// 32 workers, each a signed-in viewer with a voucher of its own, redeeming as fast as they can for 15 s, against
/// pgbench running the redemption's writes (the conditional use count, the redemption, the pass, the two events) in
/// one transaction at 32 clients, each on its own voucher; reported, no bar. Contention: 500 attempts at once on one
/// voucher limited to 50 uses: exactly 50 must succeed (DESIGN.md's bar), the rest refused with 402.
/// </summary>
public static class RedemptionBench
{
    private const int Workers = 32, Attempts = 500, Limit = 50;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(15);

    private sealed record Setup(long FeeId, long ItemId, long FirstVoucherId, long FirstCodeId, long ContendedVoucherId);

    public static async Task<IReadOnlyList<Result>> Run(BenchData data, string baseUrl, string pgBin)
    {
        var setup = await Prepare(data);
        var reference = PgBench(data, pgBin, setup);
        Console.WriteLine($"pgbench, the redemption's writes in one transaction, {Workers} clients on their own vouchers: {reference:0} tps");

        // Distinct vouchers: a short warm-up, then the measured run.
        await Redeem(data, baseUrl, setup, TimeSpan.FromSeconds(5));
        var (throughput, failures) = await Redeem(data, baseUrl, setup, Duration);
        Console.WriteLine($"redemptions on distinct vouchers ({Workers} workers): {throughput:0} /s, {failures} refused or failed");

        // Contention: every attempt sent at once, each on its own connection.
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Attempts }) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(2) };
        var started = Stopwatch.GetTimestamp();
        var statuses = await Task.WhenAll(Enumerable.Range(0, Attempts).Select(async k =>
        {
            using var request = RedeemRequest(data.ViewerTokens[k % data.ViewerTokens.Length], "BENCH-LIMITED", setup.FeeId);
            using var response = await client.SendAsync(request);
            return response.IsSuccessStatusCode ? HttpStatusCode.OK : response.StatusCode;
        }));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var succeeded = statuses.Count(s => s == HttpStatusCode.OK); // any 2xx
        var refused = statuses.Count(s => s == HttpStatusCode.PaymentRequired);
        await using var connection = new NpgsqlConnection(data.ConnectionString);
        var (counter, redemptions) = await connection.QuerySingleAsync<(int, long)>(
            "select v.usage_counter, (select count(*) from vouchers.redemptions r where r.voucher_id = v.id) from vouchers.vouchers v where v.id = @ContendedVoucherId",
            setup);
        Console.WriteLine($"{Attempts} concurrent attempts on a limit of {Limit}: {succeeded} succeeded, {refused} refused (402), " +
                          $"{Attempts - succeeded - refused} other, in {seconds:0.00} s; usage counter {counter}, {redemptions} redemption rows");
        return
        [
            new($"voucher redemptions, distinct vouchers, {Workers} workers", throughput, "/s", reference,
                "pgbench, the redemption's writes, same concurrency", "reported (no bar); 0 failures", failures == 0),
            new($"{Attempts} concurrent redemptions on a limit of {Limit}", succeeded, "succeeded", null,
                $"{refused} refused with 402, {Attempts - succeeded - refused} other, {seconds:0.00} s; counter {counter}, {redemptions} rows",
                $"exactly {Limit}", succeeded == Limit && refused == Attempts - Limit && counter == Limit && redemptions == Limit),
        ];
    }

    /// <summary>A price option, one unlimited access voucher (and code) per worker, and one voucher limited to 50 uses.</summary>
    private static async Task<Setup> Prepare(BenchData data)
    {
        await using var connection = new NpgsqlConnection(data.ConnectionString);
        await connection.OpenAsync();
        var itemId = data.FirstItemId + 950;
        var feeId = await connection.ExecuteScalarAsync<long>(
            """
            insert into access.access_fees (merchant_id, item_id, access_type, amount, currency, period_quantity, period, description, created_at, updated_at)
            values (@MerchantId, @itemId, 'ppv', 5.00, 'EUR', 1, 'day', 'Bench day pass', now(), now()) returning id
            """, new { data.MerchantId, itemId });
        const string voucher = """
            insert into vouchers.vouchers (merchant_id, name, kind, code, discount, rebill_discount, usage_limit, start_date, access_period_quantity,
                                           access_period_unit, created_at, updated_at)
            select @MerchantId, 'Bench ' || c, 'access', c, 100, 0, @limit, now() - interval '1 day', 1, 'day', now(), now()
            from unnest(@codes) c
            returning id
            """;
        var codes = Enumerable.Range(0, Workers).Select(w => $"BENCH-W{w:00}").ToArray();
        var firstVoucherId = (await connection.QueryAsync<long>(voucher, new { data.MerchantId, codes, limit = (int?)null })).Min();
        var contended = await connection.QuerySingleAsync<long>(voucher, new { data.MerchantId, codes = new[] { "BENCH-LIMITED" }, limit = (int?)Limit });
        await connection.ExecuteAsync(
            "insert into vouchers.codes (merchant_id, voucher_id, code, created_at) select merchant_id, id, code, now() from vouchers.vouchers where code like 'BENCH-%' and merchant_id = @MerchantId order by id",
            new { data.MerchantId });
        var firstCodeId = await connection.ExecuteScalarAsync<long>("select min(id) from vouchers.codes where voucher_id = @firstVoucherId", new { firstVoucherId });
        return new Setup(feeId, itemId, firstVoucherId, firstCodeId, contended);
    }

    private static HttpRequestMessage RedeemRequest(string token, string code, long feeId) => new(HttpMethod.Post, "/v2/vouchers/redeem")
    {
        Headers = { Authorization = new("Bearer", token) },
        Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["voucher_code"] = code, ["access_fee_id"] = feeId.ToString(CultureInfo.InvariantCulture) }),
    };

    /// <summary>Each worker a viewer with its own voucher, redeeming back to back; answers redemptions per second and the non-200 count.</summary>
    private static async Task<(double Throughput, long Failures)> Redeem(BenchData data, string baseUrl, Setup setup, TimeSpan duration)
    {
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Workers }) { BaseAddress = new Uri(baseUrl) };
        long done = 0, failures = 0;
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < until)
            {
                using var request = RedeemRequest(data.ViewerTokens[w], $"BENCH-W{w:00}", setup.FeeId);
                using var response = await client.SendAsync(request);
                if (response.IsSuccessStatusCode) Interlocked.Increment(ref done);
                else Interlocked.Increment(ref failures);
            }
        })));
        return (done / Stopwatch.GetElapsedTime(started).TotalSeconds, failures);
    }

    /// <summary>pgbench with the redemption's writes, each client (:client_id) on its own voucher and viewer; answers its tps.</summary>
    private static double PgBench(BenchData data, string pgBin, Setup setup)
    {
        var m = data.MerchantId;
        const string empty = "{}";
        var script = Path.GetTempFileName();
        File.WriteAllText(script, $"""
            begin;
            update vouchers.vouchers set usage_counter = usage_counter + 1 where id = {setup.FirstVoucherId} + :client_id and merchant_id = {m} and (usage_limit is null or usage_counter < usage_limit);
            insert into vouchers.redemptions (merchant_id, voucher_id, code_id, code, consumer_id, item_id, access_fee_id, discount, created_at) values ({m}, {setup.FirstVoucherId} + :client_id, {setup.FirstCodeId} + :client_id, 'BENCH', {data.FirstViewerId} + :client_id, {setup.ItemId}, {setup.FeeId}, 100, now());
            insert into access.passes (merchant_id, consumer_id, item_id, access_fee_id, type, source, starts_at, expires_at, created_at, updated_at) values ({m}, {data.FirstViewerId} + :client_id, {setup.ItemId}, {setup.FeeId}, 'access-voucher', 'voucher', now(), now() + interval '1 day', now(), now());
            insert into kernel.outbox (merchant_id, type, payload, created_at) values ({m}, 'voucher.redeemed', '{empty}', now()), ({m}, 'asset.access.granted', '{empty}', now());
            commit;

            """);
        return data.PgBench(pgBin, script, Workers, (int)Duration.TotalSeconds);
    }
}
