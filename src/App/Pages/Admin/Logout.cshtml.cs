using Gatehouse.Kernel;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Gatehouse.App.Pages.Admin;

public sealed class LogoutModel : PageModel
{
    public IActionResult OnGet() => Redirect("/admin");

    public async Task<IActionResult> OnPost()
    {
        await HttpContext.SignOutAsync(Auth.AdminCookieScheme);
        return Redirect("/admin/login");
    }
}
