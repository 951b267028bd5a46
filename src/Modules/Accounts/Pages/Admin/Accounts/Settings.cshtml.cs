using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Accounts.Pages.Admin.Accounts;

public sealed class SettingsModel(NpgsqlDataSource db, TimeProvider clock, ActiveSessions sessions) : PageModel
{
    public string Name { get; private set; } = "";
    public Guid Uuid { get; private set; }
    public string Email { get; private set; } = "";
    public string ApiSecret { get; private set; } = "";
    public DateTimeOffset? RotatedAt { get; private set; }

    [BindProperty(SupportsGet = true)] public bool Rotated { get; set; }

    public async Task OnGet()
    {
        await using var connection = await db.OpenConnectionAsync();
        var merchant = await connection.QuerySingleAsync<(string Name, Guid Uuid, string Email, string ApiSecret, DateTimeOffset? RotatedAt)>(
            "select name, uuid, email, api_secret, api_secret_rotated_at from accounts.merchants where id = @merchantId",
            new { merchantId = User.MerchantId() });
        (Name, Uuid, Email, ApiSecret, RotatedAt) = merchant;
    }

    public async Task<IActionResult> OnPostRotate()
    {
        await RotateApiSecret.Run(db, clock, sessions, User.MerchantId());
        return RedirectToPage(new { rotated = true });
    }
}
