using Dapper;
using Gatehouse.Kernel;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>
/// The Audience list (admin): the merchant's viewers, newest first (by id, which follows sign-up order), searched by email
/// with the Access table's rule (<see cref="SearchAccess.EmailMatch"/>: the whole address, or exactly its part before or
/// after the @) or by viewer id.
/// </summary>
public static class SearchViewers
{
    public static readonly string[] Filters = ["email", "viewer_id"];

    public sealed record Query(string? Filter, string? Q, int? Page, int? Limit);

    public sealed record Viewer(long Id, string Email, string FullName, DateTimeOffset CreatedAt);

    public static async Task<OffsetPage<Viewer>> Run(NpgsqlConnection connection, long merchantId, Query query)
    {
        var paging = PageRequest.From(query.Page, query.Limit, defaultSize: 25);
        var args = new DynamicParameters(new { merchantId, limit = paging.Size, offset = paging.Offset });
        var clause = "";
        var q = query.Q?.Trim();
        if (!string.IsNullOrEmpty(q))
        {
            if (q.Length > 254) throw ApiException.Invalid("q", "must be at most 254 characters");
            switch (query.Filter ?? "email")
            {
                case "email":
                    var (condition, email) = SearchAccess.EmailMatch(q);
                    clause = "and " + condition;
                    args.Add("q", email);
                    break;
                case "viewer_id":
                    clause = "and id = @q";
                    args.Add("q", long.TryParse(q, out var id) && id > 0 ? id : throw ApiException.Invalid("q", "must be a number for viewer_id"));
                    break;
                default:
                    throw ApiException.Invalid("filter", "must be one of " + string.Join(", ", Filters));
            }
        }
        var where = $"where merchant_id = @merchantId {clause}";
        var total = await connection.ExecuteScalarAsync<long>($"select count(*) from accounts.consumers {where}", args);
        var viewers = await connection.QueryAsync<Viewer>(
            $"select id, email, full_name, created_at from accounts.consumers {where} order by id desc limit @limit offset @offset",
            args);
        return OffsetPage<Viewer>.Of(viewers.ToList(), total, paging);
    }
}
