using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>
/// GET /items/access/customers?status=active|inactive|all&amp;page&amp;size (viewer token): the viewer's own passes, newest
/// first. page=0 is the first page too: the JS SDK's getPurchaseHistory asks for page 0 unless told otherwise.
/// </summary>
internal static class CustomerAccess
{
    internal sealed record Page(long Total, IReadOnlyList<PassView> Collection);

    public static async Task<IResult> Handle(ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock, string? status, int? page, int? size)
    {
        var paging = PageRequest.From(page is 0 ? 1 : page, size);
        var filter = PassFilter.Status(status);
        var now = clock.GetUtcNow();
        var args = new { consumerId = user.ConsumerId(), merchantId = user.MerchantId(), now, limit = paging.Size, offset = paging.Offset };
        var where = $"where p.consumer_id = @consumerId and p.merchant_id = @merchantId {filter}";
        await using var connection = await db.OpenConnectionAsync();
        var total = await connection.ExecuteScalarAsync<long>($"select count(*) from access.passes p {where}", args);
        var rows = await connection.QueryAsync<Passes.Row>(
            $"{Passes.Select} {where} order by p.created_at desc, p.id desc limit @limit offset @offset", args);
        return Results.Ok(new Page(total, rows.Select(r => Passes.View(r, now)).ToList()));
    }
}

/// <summary>SQL fragments for the active/inactive views (active = started, not expired, not revoked).</summary>
internal static class PassFilter
{
    public static string Status(string? status) => status switch
    {
        null or "" or "all" => "",
        "active" => "and p.revoked_at is null and p.starts_at <= @now and p.expires_at > @now",
        "inactive" => "and (p.revoked_at is not null or p.expires_at <= @now)",
        _ => throw ApiException.Invalid("status", "must be active, inactive or all"),
    };
}
