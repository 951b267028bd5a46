using System.Diagnostics;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace Gatehouse.Bench;

/// <summary>
/// A batch of 100,000 voucher codes through the API: the request, the background generation, completed. There is no
/// outside reference for generating codes, so the figure is held to the target alone: under 30 s.
/// </summary>
public static class CodeBatchBench
{
    private const int Codes = 100_000;
    private const double TargetSeconds = 30;

    public static async Task<IReadOnlyList<Result>> Run(BenchData data, string baseUrl)
    {
        long voucherId;
        await using (var connection = new NpgsqlConnection(data.ConnectionString))
        {
            // The voucher and its own code as the vouchers API stores them.
            voucherId = await connection.ExecuteScalarAsync<long>(
                """
                insert into vouchers.vouchers (merchant_id, name, kind, code, discount, rebill_discount, start_date, created_at, updated_at)
                values (@MerchantId, 'Bench campaign', 'discount', 'BENCH2026', 25, 0, now(), now(), now()) returning id
                """, new { data.MerchantId });
            await connection.ExecuteAsync(
                "insert into vouchers.codes (merchant_id, voucher_id, code, created_at) values (@MerchantId, @voucherId, 'BENCH2026', now())",
                new { data.MerchantId, voucherId });
        }

        using var client = data.Client(baseUrl, data.MerchantToken);
        var started = Stopwatch.GetTimestamp();
        var response = await client.PostAsync($"/v2/vouchers/{voucherId}/code-batches",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["count"] = Codes.ToString(), ["prefix"] = "BENCH-" }));
        var batch = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException("code batch request failed: " + batch);
        var id = batch.GetProperty("id").GetInt64();
        JsonElement state;
        string status;
        do
        {
            await Task.Delay(50);
            state = JsonDocument.Parse(await client.GetStringAsync($"/v2/vouchers/{voucherId}/code-batches/{id}")).RootElement;
            status = state.GetProperty("status").GetString()!;
        } while (status is "queued" or "generating");
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

        await using (var connection = new NpgsqlConnection(data.ConnectionString))
        {
            var (count, distinct) = await connection.QuerySingleAsync<(long, long)>(
                "select count(*), count(distinct lower(code)) from vouchers.codes where batch_id = @id and merchant_id = @MerchantId",
                new { id, data.MerchantId });
            Console.WriteLine($"code batch of {Codes:N0}: {seconds:0.00} s, {status}, {count:N0} codes in the database, {distinct:N0} distinct");
            return
            [
                new($"code batch, {Codes:N0} codes (request to completed)", seconds, "s", null, "– (no outside reference)",
                    $"< {TargetSeconds} s", status == "completed" && count == Codes && distinct == Codes && seconds < TargetSeconds),
            ];
        }
    }
}
