using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Vouchers;

/// <summary>
/// A code batch as the API shows it, with its progress: GET /v2/vouchers/{id}/code-batches (newest first) and
/// GET /v2/vouchers/{id}/code-batches/{batchId}. Times are ISO 8601, as the rest of the vouchers API.
/// </summary>
public sealed record CodeBatchView(
    long Id, long VoucherId, int Requested, int Generated, string Status, int Progress, int Length, string Prefix, string Suffix,
    string? Message, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt)
{
    public static readonly string[] Finished = ["completed", "failed"];

    private const string Select = """
        select id, voucher_id, requested, generated, status, length, prefix, suffix, message, created_at, finished_at
        from vouchers.code_batches
        """;

    private sealed record Row(long Id, long VoucherId, int Requested, int Generated, string Status, int Length, string Prefix, string Suffix,
        string? Message, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt);

    private static CodeBatchView View(Row r) => new(r.Id, r.VoucherId, r.Requested, r.Generated, r.Status,
        r.Status == "completed" ? 100 : (int)(100L * r.Generated / r.Requested), r.Length, r.Prefix, r.Suffix, r.Message, r.CreatedAt,
        r.FinishedAt);

    /// <summary>
    /// The voucher the batches belong to: the merchant's, not deleted, not a gift (a gift voucher is one code for one
    /// receiver). Anything else is a 404, so another merchant's ids reveal nothing.
    /// </summary>
    internal static async Task Voucher(NpgsqlConnection connection, long merchantId, long voucherId, NpgsqlTransaction? transaction = null)
    {
        var found = await connection.ExecuteScalarAsync<bool>(
            "select exists (select 1 from vouchers.vouchers where id = @voucherId and merchant_id = @merchantId and deleted_at is null and not is_gift)",
            new { voucherId, merchantId }, transaction);
        if (!found) throw ApiException.NotFound("Voucher not found");
    }

    public static async Task<CodeBatchView?> One(NpgsqlConnection connection, long merchantId, long voucherId, long id) =>
        (await connection.QueryAsync<Row>(Select + " where id = @id and voucher_id = @voucherId and merchant_id = @merchantId",
            new { id, voucherId, merchantId })).Select(View).SingleOrDefault();

    public static async Task<OffsetPage<CodeBatchView>> List(NpgsqlConnection connection, long merchantId, long voucherId, PageRequest page)
    {
        var total = await connection.ExecuteScalarAsync<long>(
            "select count(*) from vouchers.code_batches where voucher_id = @voucherId and merchant_id = @merchantId", new { voucherId, merchantId });
        var rows = await connection.QueryAsync<Row>(
            Select + " where voucher_id = @voucherId and merchant_id = @merchantId order by id desc limit @limit offset @offset",
            new { voucherId, merchantId, limit = page.Size, offset = page.Offset });
        return OffsetPage<CodeBatchView>.Of(rows.Select(View).ToList(), total, page);
    }

    public static async Task<IResult> HandleOne(long id, long batchId, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        await Voucher(connection, user.MerchantId(), id);
        return Results.Ok(await One(connection, user.MerchantId(), id, batchId) ?? throw ApiException.NotFound("Code batch not found"));
    }

    public static async Task<IResult> HandleList(long id, ClaimsPrincipal user, NpgsqlDataSource db, int? page, int? limit)
    {
        var paging = PageRequest.From(page, limit);
        await using var connection = await db.OpenConnectionAsync();
        await Voucher(connection, user.MerchantId(), id);
        return Results.Ok(await List(connection, user.MerchantId(), id, paging));
    }
}
