using Gatehouse.Access.Pages.Admin;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;

namespace Gatehouse.Vouchers.Pages.Admin.Promotions;

/// <summary>
/// "New voucher" in the guide's steps: name and type; code and discount (or access period); usage limit and validity.
/// Each step's fields are checked by the use case's own checks (<see cref="CreateVoucher.Validate"/>) before going on; the
/// last step creates the voucher with <see cref="CreateVoucher.Run"/>, as POST /v2/vouchers does. The steps keep no state
/// on the server: every field travels along in hidden inputs, so Back and a refused step lose nothing.
/// </summary>
public sealed class NewVoucherModel(NpgsqlDataSource db, TimeProvider clock) : PageModel
{
    public const int LastStep = 3;

    [BindProperty] public VoucherForm Form { get; set; } = new();
    [BindProperty] public int Step { get; set; } = 1;
    [TempData] public string? Notice { get; set; }
    public FormErrors? Errors { get; private set; }

    public string StepName(int step) => step switch
    {
        1 => "Name and type",
        2 => Form.IsAccess ? "Code and access period" : "Code and discount",
        _ => "Usage limit and validity",
    };

    public void OnGet()
    {
        // Valid from today by default, as most vouchers are meant to work at once.
        Form.StartDate = clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
    }

    public IActionResult OnPostNext()
    {
        Step = Math.Clamp(Step, 1, LastStep);
        var problems = Problems(out _).Where(p => VoucherForm.StepOf(p.Key) <= Step).ToDictionary();
        if (problems.Count > 0) return Refused(problems, StatusCodes.Status400BadRequest);
        Step++;
        return Page();
    }

    public IActionResult OnPostBack()
    {
        Step = Math.Clamp(Step - 1, 1, LastStep);
        return Page();
    }

    public async Task<IActionResult> OnPostCreate()
    {
        Step = LastStep;
        var problems = Problems(out var request);
        if (problems.Count > 0) return Refused(problems, StatusCodes.Status400BadRequest);
        try
        {
            var voucher = await CreateVoucher.Run(db, User.MerchantId(), request, clock);
            Notice = $"Voucher “{voucher.Name}” created with the code {voucher.Code}. Any viewer can use it, for every asset and package, " +
                     "until you narrow it below.";
            return Redirect($"/admin/promotions/{voucher.Id}");
        }
        catch (ApiException e)
        {
            // A taken code (409) names no field: it is the code's problem, shown on the code's step.
            var errors = PromotionsText.ErrorsOf(e, "code");
            return Refused(errors.Fields.ToDictionary(), e.Status, errors.Message);
        }
    }

    /// <summary>What does not parse, and what the use case would refuse, under the API's field names.</summary>
    private Dictionary<string, string> Problems(out VoucherRequest request)
    {
        var problems = new Dictionary<string, string>();
        request = Form.ToRequest(problems);
        try
        {
            CreateVoucher.Validate(request, out _).ThrowIfAny();
        }
        catch (ApiException e) when (e.Errors is not null)
        {
            foreach (var (field, message) in e.Errors) problems.TryAdd(field, message);
        }
        return problems;
    }

    /// <summary>Back to the earliest step with a problem, every field as typed, each problem next to its field.</summary>
    private PageResult Refused(Dictionary<string, string> problems, int status, string message = "Invalid input")
    {
        Errors = FormErrors.From(new ApiException(status, message, problems));
        Step = problems.Count == 0 ? Step : problems.Keys.Min(VoucherForm.StepOf);
        Response.StatusCode = status;
        return Page();
    }
}
