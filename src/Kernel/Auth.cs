using System.Security.Claims;

namespace Gatehouse.Kernel;

/// <summary>The names every module authorizes with. The Accounts module issues and validates the tokens.</summary>
public static class Auth
{
    public const string BearerScheme = "Bearer";
    public const string AdminCookieScheme = "AdminCookie";

    /// <summary>A merchant's back end (client_credentials token).</summary>
    public const string Merchant = "merchant";
    /// <summary>A viewer signed in on the merchant's apps.</summary>
    public const string Consumer = "consumer";
    /// <summary>Either kind of bearer token.</summary>
    public const string AnyAccount = "account";
    /// <summary>A merchant's staff member signed in to the admin pages.</summary>
    public const string Admin = "admin";

    public const string MerchantIdClaim = "mid";
    public const string MerchantUuidClaim = "muid";
    public const string SessionIdClaim = "sid";
    public const string RoleClaim = "role";
    public const string SubjectClaim = "sub";
    public const string AdminUserIdClaim = "aid";

    public static long MerchantId(this ClaimsPrincipal user) =>
        long.Parse(user.FindFirstValue(MerchantIdClaim) ?? throw ApiException.Unauthorized());

    public static Guid MerchantUuid(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(MerchantUuidClaim) ?? throw ApiException.Unauthorized());

    /// <summary>The consumer's id; only on consumer tokens.</summary>
    public static long ConsumerId(this ClaimsPrincipal user) =>
        user.IsConsumer() ? long.Parse(user.FindFirstValue(SubjectClaim)!) : throw ApiException.Forbidden();

    public static bool IsConsumer(this ClaimsPrincipal user) => user.FindFirstValue(RoleClaim) == Consumer;
    public static bool IsMerchant(this ClaimsPrincipal user) => user.FindFirstValue(RoleClaim) == Merchant;

    public static long SessionId(this ClaimsPrincipal user) =>
        long.Parse(user.FindFirstValue(SessionIdClaim) ?? throw ApiException.Unauthorized());

    public static long AdminUserId(this ClaimsPrincipal user) =>
        long.Parse(user.FindFirstValue(AdminUserIdClaim) ?? throw ApiException.Unauthorized());
}
