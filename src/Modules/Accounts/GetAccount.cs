using System.Security.Claims;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Accounts;

/// <summary>GET /accounts: the signed-in viewer's or merchant's own account.</summary>
internal static class GetAccount
{
    public static async Task<IResult> Handle(ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var account = user.IsConsumer()
            ? await AccountView.Consumer(connection, user.MerchantId(), user.ConsumerId())
            : await AccountView.Merchant(connection, user.MerchantId());
        return account is null ? throw ApiException.Unauthorized() : Results.Ok(account);
    }
}
