using System.Security.Claims;
using System.Text.Json;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>
/// The Access section's table. GET /v2/access?status=active|inactive|all&amp;filter=email|viewer_id|asset_id|package_id|asset_title&amp;q=…&amp;page&amp;limit
/// (merchant), newest first. Email matches the whole address, or exactly its part before or after the @
/// ("derby", "mail.com"), never a fragment ("derb"). Every filter is served by an index.
/// GET /v2/access/{id} is one pass; GET /v2/access/{id}/changes its audit trail.
/// </summary>
public static class SearchAccess
{
    public static readonly string[] Filters = ["email", "viewer_id", "asset_id", "package_id", "asset_title"];

    public sealed record Query(string? Status, string? Filter, string? Q, int? Page, int? Limit);

    public static async Task<OffsetPage<PassView>> Run(NpgsqlConnection connection, long merchantId, Query query, DateTimeOffset now)
    {
        var paging = PageRequest.From(query.Page, query.Limit, defaultSize: 25);
        var q = query.Q?.Trim();
        var (clause, value) = string.IsNullOrEmpty(q) ? ("", (object?)null) : Clause(query.Filter ?? "email", q);
        var where = $"where p.merchant_id = @merchantId {PassFilter.Status(query.Status)} {clause}";
        var args = new DynamicParameters(new { merchantId, now, limit = paging.Size, offset = paging.Offset });
        args.Add("q", value);
        var total = await connection.ExecuteScalarAsync<long>($"select count(*) from access.passes p {where}", args);
        var rows = await connection.QueryAsync<Passes.Row>(
            $"{Passes.Select} {where} order by p.created_at desc, p.id desc limit @limit offset @offset", args);
        return OffsetPage<PassView>.Of(rows.Select(r => Passes.View(r, now)).ToList(), total, paging);
    }

    private static (string Clause, object Value) Clause(string filter, string q)
    {
        if (q.Length > 254) throw ApiException.Invalid("q", "must be at most 254 characters");
        long Id() => long.TryParse(q, out var id) && id > 0 ? id : throw ApiException.Invalid("q", $"must be a number for {filter}");
        return filter switch
        {
            "email" => ByEmail(q),
            "viewer_id" => ("and p.consumer_id = @q", Id()),
            "asset_id" => ("and p.item_id = @q", Id()),
            "package_id" => ("and p.package_id = @q", Id()),
            "asset_title" => (
                """
                and (p.item_id in (select id from access.items where merchant_id = @merchantId and lower(title) like @q)
                     or p.package_id in (select id from access.packages where merchant_id = @merchantId and lower(title) like @q))
                """, LikePattern.Containing(q)!),
            _ => throw ApiException.Invalid("filter", "must be one of " + string.Join(", ", Filters)),
        };

        static (string, object) ByEmail(string q)
        {
            var (condition, email) = EmailMatch(q);
            return ($"and p.consumer_id in (select id from accounts.consumers where merchant_id = @merchantId and {condition})", email);
        }
    }

    /// <summary>
    /// The email rule, as a condition on accounts.consumers with its @q value: the whole address, or exactly its part
    /// before or after the @ ("derby", "mail.com", "@mail.com"), never a fragment. The admin's viewer search uses it too.
    /// </summary>
    public static (string Condition, string Value) EmailMatch(string q) =>
        q.Contains('@') && !q.StartsWith('@')
            ? ("lower(email) = lower(@q)", q)
            : ("(lower(split_part(email, '@', 1)) = lower(@q) or lower(split_part(email, '@', 2)) = lower(@q))", q.TrimStart('@'));

    public static async Task<IResult> Handle(ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock, string? status,
        string? filter, string? q, int? page, int? limit)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await Run(connection, user.MerchantId(), new Query(status, filter, q, page, limit), clock.GetUtcNow()));
    }

    public static async Task<IResult> One(long id, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await Passes.One(connection, user.MerchantId(), id, clock.GetUtcNow()) ?? throw ApiException.NotFound("Access pass not found"));
    }

    public sealed record Change(long Id, string Action, string Actor, long At, long? ExpiresAtBefore, long? ExpiresAtAfter);

    /// <summary>A pass's changes: its audit rows, and the bulk job row that granted it (who uploaded it, when).</summary>
    public static async Task<IReadOnlyList<Change>> Changes(NpgsqlConnection connection, long merchantId, long passId)
    {
        var rows = await connection.QueryAsync<(long Id, string Action, string Actor, DateTimeOffset At, long? Before, long? After)>(
            """
            select id, action, actor, at, (before ->> 'expires_at')::bigint, (after ->> 'expires_at')::bigint
            from access.pass_changes where pass_id = @passId and merchant_id = @merchantId
            union all
            select 0, 'granted', j.actor, p.created_at, null, extract(epoch from p.expires_at)::bigint
            from access.passes p join access.bulk_jobs j on j.id = p.source_id and j.action = 'grant'
            where p.id = @passId and p.merchant_id = @merchantId and p.source = 'bulk'
            order by 4, 1
            """, new { passId, merchantId });
        return rows.Select(r => new Change(r.Id, r.Action, r.Actor, r.At.ToUnixTimeSeconds(), r.Before, r.After)).ToList();
    }

    public static async Task<IResult> HandleChanges(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var changes = await Changes(connection, user.MerchantId(), id);
        return changes.Count == 0 ? throw ApiException.NotFound("Access pass not found") : Results.Ok(changes);
    }
}
