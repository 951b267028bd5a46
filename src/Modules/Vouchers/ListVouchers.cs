using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Gatehouse.Vouchers;

/// <summary>
/// GET /vouchers?search=id:123&amp;search=name:Foo&amp;search=code:ABC&amp;page=&amp;limit= (newest first, the reference's
/// {collection, total, page, offset, limit}) and GET /vouchers/{id}. Names match by fragment, codes exactly, both
/// case-insensitively; several searches must all hold.
/// </summary>
public static class ListVouchers
{
    public static async Task<IResult> Handle(ClaimsPrincipal user, NpgsqlDataSource db, [FromQuery] string[]? search, int? page, int? limit) =>
        Results.Ok(await Run(db, user.MerchantId(), search ?? [], page, limit));

    public static async Task<IResult> HandleOne(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        return Results.Ok(await VoucherViews.One(connection, user.MerchantId(), id) ?? throw ApiException.NotFound("Voucher not found"));
    }

    /// <summary>The use case, shared by the API and the admin's voucher list.</summary>
    public static async Task<OffsetPage<VoucherView>> Run(NpgsqlDataSource db, long merchantId, IReadOnlyList<string> search, int? page, int? limit)
    {
        var paging = PageRequest.From(page, limit);
        long? id = null;
        string? name = null, code = null;
        foreach (var term in search.Where(t => !string.IsNullOrWhiteSpace(t)))
        {
            var colon = term.IndexOf(':');
            var (key, value) = colon < 0 ? ("name", term.Trim()) : (term[..colon].Trim(), term[(colon + 1)..].Trim());
            if (value.Length > 250) throw ApiException.Invalid("search", "must be at most 250 characters");
            switch (key)
            {
                case "id" when long.TryParse(value, out var parsed): id = parsed; break;
                case "id": throw ApiException.Invalid("search", "id: takes a voucher id");
                case "name": name = value; break;
                case "code": code = value; break;
                default: throw ApiException.Invalid("search", "use id:, name: or code:");
            }
        }
        var filter = new { merchantId, id, name = LikePattern.Containing(name), code, limit = paging.Size, offset = paging.Offset };
        const string where = """
            where v.merchant_id = @merchantId and v.deleted_at is null and not v.is_gift
              and (@id::bigint is null or v.id = @id)
              and (@name::text is null or lower(v.name) like @name)
              and (@code::text is null or exists (select 1 from vouchers.codes c where c.merchant_id = @merchantId
                                                   and lower(c.code) = lower(@code) and c.voucher_id = v.id))
            """;
        await using var connection = await db.OpenConnectionAsync();
        var total = await connection.ExecuteScalarAsync<long>($"select count(*) from vouchers.vouchers v {where}", filter);
        var ids = (await connection.QueryAsync<long>($"select v.id from vouchers.vouchers v {where} order by v.id desc limit @limit offset @offset", filter)).ToArray();
        return OffsetPage<VoucherView>.Of(await VoucherViews.Load(connection, merchantId, ids), total, paging);
    }
}
