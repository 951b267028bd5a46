using Carter;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using Npgsql;

namespace Gatehouse.Accounts;

public static class AccountsModule
{
    /// <summary>Tokens, bearer and admin-cookie authentication, the policies every module authorizes with.</summary>
    public static WebApplicationBuilder AddAccounts(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<Tokens>();
        services.AddHostedService<Tokens.KeyLoader>();
        services.AddSingleton<ActiveSessions>();
        services.AddHostedService<ActiveSessions.Listener>();
        services.AddTransient<PruneSignIns>();
        services.AddSingleton<SignInFailures>();

        services.AddAuthentication(Auth.BearerScheme)
            .AddJwtBearer(Auth.BearerScheme)
            .AddCookie(Auth.AdminCookieScheme, o =>
            {
                o.LoginPath = "/admin/login";
                o.LogoutPath = "/admin/logout";
                o.AccessDeniedPath = "/admin/login";
                o.Cookie.Name = "gatehouse_admin";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = TimeSpan.FromHours(12);
                o.SlidingExpiration = true;
            });

        services.AddOptions<JwtBearerOptions>(Auth.BearerScheme).Configure<Tokens, TimeProvider>((o, tokens, clock) =>
        {
            o.MapInboundClaims = false;
            o.TokenHandlers.Clear();
            o.TokenHandlers.Add(new ValidatedTokens(clock) { MapInboundClaims = false });
            o.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = Tokens.Issuer,
                ValidAudience = Tokens.Issuer,
                IssuerSigningKeyResolver = (_, _, _, _) => [tokens.SigningKey],
                // Expiry follows the app's clock, so tests that move the clock move expiry too.
                LifetimeValidator = (_, expires, _, _) => expires is { } e && e > clock.GetUtcNow().UtcDateTime,
                NameClaimType = Auth.SubjectClaim,
                RoleClaimType = Auth.RoleClaim,
            };
            o.Events = new JwtBearerEvents { OnTokenValidated = EnsureSessionIsActive };
        });

        services.AddAuthorizationBuilder()
            .AddPolicy(Auth.Merchant, p => p.AddAuthenticationSchemes(Auth.BearerScheme).RequireClaim(Auth.RoleClaim, Auth.Merchant))
            .AddPolicy(Auth.Consumer, p => p.AddAuthenticationSchemes(Auth.BearerScheme).RequireClaim(Auth.RoleClaim, Auth.Consumer))
            .AddPolicy(Auth.AnyAccount, p => p.AddAuthenticationSchemes(Auth.BearerScheme).RequireClaim(Auth.RoleClaim, Auth.Merchant, Auth.Consumer))
            .AddPolicy(Auth.Admin, p => p.AddAuthenticationSchemes(Auth.AdminCookieScheme).RequireClaim(Auth.AdminUserIdClaim));

        services.AddAdminLink("Settings", "/admin/settings", order: 900);
        return builder;
    }

    /// <summary>A token whose session was logged out (or rotated away) no longer authenticates.</summary>
    private static async Task EnsureSessionIsActive(TokenValidatedContext context)
    {
        var sessionId = long.TryParse(context.Principal?.FindFirst(Auth.SessionIdClaim)?.Value, out var sid) ? sid : 0;
        var sessions = context.HttpContext.RequestServices.GetRequiredService<ActiveSessions>();
        if (!await sessions.IsOpen(sessionId, context.HttpContext.RequestAborted)) context.Fail("The session has ended");
    }
}

/// <summary>The /accounts routes, as InPlayer's SDKs call them.</summary>
public sealed class AccountsRoutes : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var accounts = app.MapGroup("").WithTags("Accounts");

        accounts.MapPost("/accounts", Register.Handle).RequireRateLimiting(RateLimits.SignIn)
            .WithSummary("Register a viewer under a merchant's client_id and sign in")
            .AcceptsBody<Register.Request>()
            .Produces<TokenResponse>(StatusCodes.Status201Created).Produces<ApiError>(400).Produces<ApiError>(409);

        accounts.MapPost("/accounts/authenticate", Authenticate.Handle).RequireRateLimiting(RateLimits.SignIn)
            .WithSummary("Sign in: password, client_credentials or refresh_token grant")
            .AcceptsBody<Authenticate.Request>()
            .Produces<TokenResponse>().Produces<ApiError>(400).Produces<ApiError>(401).Produces<ApiError>(429);

        accounts.MapPost("/v2/accounts/authenticate", Authenticate.HandleV2).RequireRateLimiting(RateLimits.SignIn)
            .WithSummary("Sign in a viewer with a password")
            .AcceptsBody<Authenticate.Request>()
            .Produces<TokenResponse>().Produces<ApiError>(400).Produces<ApiError>(429);

        accounts.MapGet("/accounts", GetAccount.Handle).RequireAuthorization(Auth.AnyAccount)
            .WithSummary("The signed-in account").Produces<AccountView>().Produces<ApiError>(401);

        accounts.MapPut("/accounts", UpdateAccount.Handle).RequireAuthorization(Auth.AnyAccount)
            .WithSummary("Change the full name and metadata")
            .AcceptsBody<UpdateAccount.Request>()
            .Produces<AccountView>().Produces<ApiError>(400).Produces<ApiError>(401);

        accounts.MapGet("/accounts/logout", Logout.Handle).RequireAuthorization(Auth.AnyAccount)
            .WithSummary("Sign out: the token and its refresh token stop working").Produces<ApiError>(401);

        accounts.MapPost("/v2/accounts/customers", CreateCustomer.Handle).RequireAuthorization(Auth.Merchant)
            .WithSummary("Create a viewer (merchant token)")
            .AcceptsBody<CreateCustomer.Request>().Idempotent()
            .Produces<AccountView>(StatusCodes.Status201Created).Produces<ApiError>(400).Produces<ApiError>(409);
    }
}
