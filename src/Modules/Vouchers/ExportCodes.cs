using System.Globalization;
using System.Security.Claims;
using CsvHelper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Vouchers;

/// <summary>
/// GET /v2/vouchers/{id}/codes (merchant): every code of a voucher as CSV, its own code first (no batch) and then its
/// batches' codes in the order they were made: code, batch_id, status (used|unused), used_at (ISO 8601), used_by (the
/// viewer's id). Streamed row by row from the database, so 100,000 codes take no more memory than ten.
/// </summary>
internal static class ExportCodes
{
    public static async Task Handle(long id, ClaimsPrincipal user, NpgsqlDataSource db, HttpContext http)
    {
        var merchantId = user.MerchantId();
        await using var connection = await db.OpenConnectionAsync();
        await CodeBatchView.Voucher(connection, merchantId, id);
        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"voucher-{id}-codes.csv\"";
        await Write(connection, merchantId, id, http.Response.Body, http.RequestAborted);
    }

    public static async Task Write(NpgsqlConnection connection, long merchantId, long voucherId, Stream output, CancellationToken cancellation)
    {
        // The voucher's own code was chosen by a person; cells a spreadsheet would run as formulas are escaped.
        await using var csv = CsvWriter.Create(output, new CsvWriterOptions { Injection = CsvInjection.Escape, NewLine = "\n" }, true);
        csv.WriteRecord(["code", "batch_id", "status", "used_at", "used_by"]);
        await using var command = new NpgsqlCommand(
            "select code, batch_id, used_at, used_by from vouchers.codes where voucher_id = @voucherId and merchant_id = @merchantId order by id",
            connection);
        command.Parameters.AddWithValue("voucherId", voucherId);
        command.Parameters.AddWithValue("merchantId", merchantId);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            csv.WriteField(reader.GetString(0));
            csv.WriteField(reader.IsDBNull(1) ? "" : reader.GetInt64(1).ToString(CultureInfo.InvariantCulture));
            var used = !reader.IsDBNull(2);
            csv.WriteField(used ? "used" : "unused");
            csv.WriteField(used ? reader.GetFieldValue<DateTime>(2).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) : "");
            csv.WriteField(reader.IsDBNull(3) ? "" : reader.GetInt64(3).ToString(CultureInfo.InvariantCulture));
            await csv.EndRecordAsync(cancellation);
        }
    }
}
