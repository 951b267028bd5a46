using Gatehouse.Accounts;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Npgsql;

namespace Gatehouse.App.Pages.Admin;

[EnableRateLimiting(RateLimits.SignIn)]
public sealed class LoginModel(NpgsqlDataSource db, TimeProvider clock, SignInFailures failures) : PageModel
{
    [BindProperty] public string? Email { get; set; }
    [BindProperty] public string? Password { get; set; }
    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }
    public string? Error { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPost()
    {
        var (outcome, user) = await AdminSignIn.Verify(db, clock, failures, RateLimits.ClientAddress(HttpContext), Email, Password);
        switch (outcome)
        {
            case AdminSignIn.Outcome.SignedIn:
                await HttpContext.SignInAsync(Auth.AdminCookieScheme, user!);
                return LocalRedirect(Url.IsLocalUrl(ReturnUrl) && ReturnUrl!.StartsWith("/admin", StringComparison.OrdinalIgnoreCase) ? ReturnUrl : "/admin");
            case AdminSignIn.Outcome.Locked:
                Error = "Too many failed sign-in attempts for this account. Try again in 15 minutes.";
                Response.StatusCode = StatusCodes.Status429TooManyRequests;
                return Page();
            case AdminSignIn.Outcome.AddressLimited:
                Error = "Too many failed sign-in attempts from your address. Try again in 15 minutes.";
                Response.StatusCode = StatusCodes.Status429TooManyRequests;
                return Page();
            default:
                Error = "Wrong email or password.";
                Response.StatusCode = StatusCodes.Status400BadRequest;
                Password = null;
                return Page();
        }
    }
}
