using System.Globalization;
using Gatehouse.Access.Pages.Admin;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Gatehouse.Vouchers.Pages.Admin.Promotions;

/// <summary>
/// One voucher, in the guide's sections: Details (<see cref="UpdateVoucher.Run"/>; the code never changes), Assets, Packages
/// and Payment types (<see cref="VoucherRules.AddOne"/>, <see cref="VoucherRules.Remove"/>), Access fees
/// (<see cref="VoucherRules.Choose"/>), Customer emails (one at a time, or <see cref="VoucherRules.ImportEmails"/> from a CSV),
/// Codes (<see cref="CreateCodeBatch.Run"/> in the background, with progress, and <see cref="ExportCodes.Write"/>),
/// Redemption history (<see cref="VoucherRedemptions.Run"/>) and Delete (<see cref="DeleteVoucher.Run"/>): the API's use
/// cases, for the signed-in merchant's own vouchers only (anything else is a 404). Each change redirects back to its
/// section with a notice there; a refused one shows the page with the reasons in that section.
/// </summary>
public sealed class VoucherModel(NpgsqlDataSource db, TimeProvider clock, CodeAlphabet alphabet, IServiceScopeFactory scopes) : PageModel
{
    /// <summary>The left lists show this many at most; a title search finds the others.</summary>
    public const int OfferLimit = 100;
    public const int FeeLimit = 200;
    public const int EmailsPageSize = 50;
    public const int HistoryPageSize = 20;
    private static readonly string[] AddableRules = ["assets", "packages", "payment_types", "emails"];
    private static readonly Dictionary<string, string> PaymentTypeNames = new() { ["ppv"] = "Pay-per-view", ["subscription"] = "Subscription" };

    [BindProperty] public VoucherForm Form { get; set; } = new();
    [FromQuery(Name = "find_assets")] public string? FindAssets { get; set; }
    [FromQuery(Name = "find_packages")] public string? FindPackages { get; set; }
    [FromQuery(Name = "emails_page")] public int? EmailsPage { get; set; }
    [FromQuery(Name = "history_page")] public int? HistoryPage { get; set; }

    [TempData] public string? Notice { get; set; }
    /// <summary>The section the notice is about, shown there (the page opens scrolled to it).</summary>
    [TempData] public string? NoticeFor { get; set; }
    public FormErrors? Errors { get; private set; }
    /// <summary>The section whose form was refused.</summary>
    public string? Failed { get; private set; }

    public VoucherView Voucher { get; private set; } = null!;
    public RuleListView Assets { get; private set; } = null!;
    public RuleListView Packages { get; private set; } = null!;
    public RuleListView PaymentTypes { get; private set; } = null!;
    public IReadOnlyList<VoucherCatalog.Fee> Fees { get; private set; } = [];
    public long FeesTotal { get; private set; }
    public IReadOnlySet<string> ChosenFees { get; private set; } = new HashSet<string>();
    /// <summary>Whether <see cref="Fees"/> are those of the chosen assets and packages (or, none chosen, all of them).</summary>
    public bool FeesOfChosen { get; private set; }
    public IReadOnlyList<RuleView> Emails { get; private set; } = [];
    public PromotionsPager EmailsPager { get; private set; } = null!;
    public OffsetPage<VoucherRedemptions.RedemptionView> History { get; private set; } = null!;
    public IReadOnlyDictionary<long, VoucherCatalog.Entry> HistoryAssets { get; private set; } = new Dictionary<long, VoucherCatalog.Entry>();
    public IReadOnlyDictionary<long, VoucherCatalog.Entry> HistoryPackages { get; private set; } = new Dictionary<long, VoucherCatalog.Entry>();
    public OffsetPage<CodeBatchView> Batches { get; private set; } = null!;
    public bool BatchesRunning => Batches.Collection.Any(b => !CodeBatchView.Finished.Contains(b.Status));

    public string? NoticeIn(string section) => NoticeFor == section ? Notice : null;
    public FormErrors? ErrorsIn(string section) => Failed == section ? Errors : null;

    public async Task<IActionResult> OnGet(long id)
    {
        if (!await Load(id)) return NotFound();
        Form = VoucherForm.From(Voucher);
        return Page();
    }

    public async Task<IActionResult> OnGetEmailsTemplate(long id) =>
        await Load(id) ? File(System.Text.Encoding.UTF8.GetBytes(VoucherRules.EmailsTemplate), "text/csv", "voucher-emails-template.csv") : NotFound();

    public Task<IActionResult> OnPostSave(long id) => Submit(id, () => "details", async merchantId =>
    {
        Form.Kind = Voucher.VoucherType; // the kind never changes, and the form does not send it
        var problems = new Dictionary<string, string>();
        var request = Form.ToRequest(problems);
        if (problems.Count > 0) throw ApiException.Invalid(problems);
        await UpdateVoucher.Run(db, merchantId, id, request, VoucherForm.DetailsSends, clock);
        return "Details saved.";
    });

    public Task<IActionResult> OnPostAddRule(long id, string? type, string? value) => Submit(id, () => Section(type), async merchantId =>
    {
        if (type is null || !AddableRules.Contains(type)) throw ApiException.Invalid("rule_type", "must be assets, packages, payment_types or emails");
        if (string.IsNullOrWhiteSpace(value)) throw ApiException.Invalid("value", type == "emails" ? "type an email address" : "choose one to add");
        await VoucherRules.AddOne(db, merchantId, id, type, value, clock.GetUtcNow());
        return $"{Describe(type, value.Trim())} added.";
    });

    public Task<IActionResult> OnPostRemoveRule(long id, long ruleId) => Submit(id, () => Section(Voucher.Rules.FirstOrDefault(r => r.Id == ruleId)?.RuleType), async merchantId =>
    {
        var rule = Voucher.Rules.FirstOrDefault(r => r.Id == ruleId);
        await using (var connection = await db.OpenConnectionAsync())
            await VoucherRules.Remove(connection, merchantId, id, ruleId);
        return rule is null ? "Rule removed." : $"{Describe(rule.RuleType, rule.Value)} removed.";
    });

    public Task<IActionResult> OnPostSaveFees(long id, string[]? offered, string[]? chosen) => Submit(id, () => "access-fees", async merchantId =>
    {
        var (added, removed) = await VoucherRules.Choose(db, merchantId, id, "access_fees", offered ?? [], chosen ?? [], clock.GetUtcNow());
        var count = Voucher.Rules.Count(r => r.RuleType == "access_fees") + added - removed;
        return count == 0 ? "Access fees saved: the voucher is valid for every price option."
            : $"Access fees saved: the voucher is valid for {PromotionsText.Plural(count, "price option")} only.";
    });

    public Task<IActionResult> OnPostImportEmails(long id, IFormFile? file) => Submit(id, () => "emails", async merchantId =>
    {
        if (file is null || file.Length == 0) throw ApiException.Invalid("file", "choose a CSV file of emails (download the template)");
        // Refused before reading it in; the use case caps what it reads as well.
        if (file.Length > VoucherRules.MaxEmailsFileBytes)
            throw new ApiException(StatusCodes.Status413PayloadTooLarge, "The file is larger than 1 MB; split it into smaller files");
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var stream = file.OpenReadStream();
        var imported = await VoucherRules.ImportEmails(connection, transaction, merchantId, id, stream, clock.GetUtcNow());
        await transaction.CommitAsync();
        return $"{PromotionsText.Plural(imported.Added, "email")} added from {Path.GetFileName(file.FileName)}" +
               (imported.AlreadyListed > 0 ? $"; {imported.AlreadyListed} already listed, skipped." : ".");
    });

    public Task<IActionResult> OnPostGenerateCodes(long id, int? count, int? length, string? prefix, string? suffix) =>
        Submit(id, () => "codes", async merchantId =>
        {
            var batch = await CreateCodeBatch.Run(db, clock, alphabet, scopes, merchantId, id,
                new CreateCodeBatch.CodeBatchRequest(count, length, string.IsNullOrWhiteSpace(prefix) ? null : prefix.Trim(),
                    string.IsNullOrWhiteSpace(suffix) ? null : suffix.Trim()));
            return $"Generating {PromotionsText.Plural(batch.Requested, "code")}: the progress shows below.";
        });

    /// <summary>The Codes section alone: the page's script asks for it every two seconds while a batch runs.</summary>
    public async Task<IActionResult> OnGetCodeBatches(long id) => await Load(id) ? Partial("_CodeBatches", this) : NotFound();

    /// <summary>Every code of the voucher with its use, streamed as CSV.</summary>
    public async Task<IActionResult> OnGetCodes(long id)
    {
        if (!await Load(id)) return NotFound();
        Response.ContentType = "text/csv; charset=utf-8";
        Response.Headers.ContentDisposition = $"attachment; filename=\"voucher-{id}-codes.csv\"";
        await using var connection = await db.OpenConnectionAsync();
        await ExportCodes.Write(connection, User.MerchantId(), id, Response.Body, HttpContext.RequestAborted);
        return new EmptyResult();
    }

    public async Task<IActionResult> OnPostDelete(long id)
    {
        if (!await Load(id)) return NotFound();
        try
        {
            await DeleteVoucher.Run(db, User.MerchantId(), id, clock);
        }
        catch (ApiException e) when (e.Status == StatusCodes.Status404NotFound)
        {
            return NotFound(); // deleted meanwhile, in another tab
        }
        Notice = $"Voucher “{Voucher.Name}” deleted: its code {Voucher.Code} no longer works.";
        NoticeFor = null;
        return Redirect("/admin/promotions");
    }

    /// <summary>
    /// Runs one section's change: the notice and a redirect back to the section when it succeeds; the page with the reasons
    /// in that section when refused; a 404 when the voucher is not the merchant's. The section is known once the voucher is
    /// loaded (a removed rule's section is its type's).
    /// </summary>
    private async Task<IActionResult> Submit(long id, Func<string> sectionOf, Func<long, Task<string>> change)
    {
        if (!await Load(id)) return NotFound();
        var section = sectionOf();
        try
        {
            Notice = await change(User.MerchantId());
            NoticeFor = section;
            return Redirect($"/admin/promotions/{id}#{section}");
        }
        catch (ApiException e)
        {
            Failed = section;
            Errors = FormErrors.From(e);
            if (section != "details") Form = VoucherForm.From(Voucher);
            await Load(id); // again, so that the section shows its refusal (and any rule changed meanwhile)
            Response.StatusCode = e.Status;
            return Page();
        }
    }

    private static string Section(string? ruleType) => ruleType switch
    {
        "assets" => "assets",
        "packages" => "packages",
        "access_fees" => "access-fees",
        "emails" => "emails",
        "payment_types" => "payment-types",
        _ => "details",
    };

    /// <summary>How a notice names a rule: “Cup Final” (asset), Pay-per-view, viewer@mail.test.</summary>
    private string Describe(string ruleType, string value) => ruleType switch
    {
        "assets" => $"Asset “{Title(Assets, value)}”",
        "packages" => $"Package “{Title(Packages, value)}”",
        "payment_types" => PaymentTypeNames.GetValueOrDefault(value, value),
        "access_fees" => $"Price option #{value}",
        _ => value.ToLowerInvariant(),
    };

    private static string Title(RuleListView list, string value) =>
        list.Offered.FirstOrDefault(o => o.Value == value)?.Label ?? list.Chosen.FirstOrDefault(c => c.Value == value)?.Label ?? "#" + value;

    /// <summary>Loads the voucher and what each section shows, if it is the signed-in merchant's.</summary>
    private async Task<bool> Load(long id)
    {
        var merchantId = User.MerchantId();
        await using var connection = await db.OpenConnectionAsync();
        if (await VoucherViews.One(connection, merchantId, id) is not { } voucher) return false;
        Voucher = voucher;

        List<RuleView> RulesOf(string type) => voucher.Rules.Where(r => r.RuleType == type).ToList();
        static long[] Ids(IEnumerable<RuleView> rules) =>
            rules.Select(r => long.TryParse(r.Value, CultureInfo.InvariantCulture, out var n) ? n : 0).Where(n => n > 0).ToArray();
        var assetRules = RulesOf("assets");
        var packageRules = RulesOf("packages");
        var feeRules = RulesOf("access_fees");

        async Task<RuleListView> CatalogList(string type, string thing, string plural, List<RuleView> rules, string findParam, string? find)
        {
            var ids = Ids(rules);
            var named = await VoucherCatalog.Named(connection, merchantId, type, ids);
            var offered = await VoucherCatalog.Offer(connection, merchantId, type, find, ids, OfferLimit);
            string Label(VoucherCatalog.Entry e) => e.Title + (e.IsActive ? "" : " (inactive)");
            return new RuleListView(type, char.ToUpperInvariant(plural[0]) + plural[1..], thing, $"Your {plural}", "Voucher valid for",
                $"Drag {plural} from your list to the voucher's to make it valid for those only, or use Add and Remove.",
                $"None: valid for every {thing}.", string.IsNullOrWhiteSpace(find) ? $"No other {plural}." : $"No other {plural} match.",
                offered.Entries.Select(e => new RuleOption(e.Id.ToString(CultureInfo.InvariantCulture), Label(e))).ToList(), offered.Total,
                rules.Select(r => new ChosenRule(r.Id, r.Value,
                    long.TryParse(r.Value, CultureInfo.InvariantCulture, out var n) && named.TryGetValue(n, out var e) ? Label(e) : $"#{r.Value} (deleted)")).ToList(),
                findParam, find, NoticeIn(type), ErrorsIn(type));
        }
        Assets = await CatalogList("assets", "asset", "assets", assetRules, "find_assets", FindAssets);
        Packages = await CatalogList("packages", "package", "packages", packageRules, "find_packages", FindPackages);

        var paymentRules = RulesOf("payment_types");
        PaymentTypes = new RuleListView("payment_types", "Payment types", "payment type", "Payment types", "Voucher valid for",
            "Drag a payment type to the voucher's list to make it valid for that kind of price option only, or use Add and Remove.",
            "Neither: valid for both pay-per-view and subscription price options.", "Both are chosen.",
            PaymentTypeNames.Where(p => paymentRules.All(r => r.Value != p.Key)).Select(p => new RuleOption(p.Key, p.Value)).ToList(),
            PaymentTypeNames.Count - paymentRules.Count,
            paymentRules.Select(r => new ChosenRule(r.Id, r.Value, PaymentTypeNames.GetValueOrDefault(r.Value, r.Value))).ToList(),
            null, null, NoticeIn("payment-types"), ErrorsIn("payment-types"));

        (Fees, FeesTotal) = await VoucherCatalog.Fees(connection, merchantId, Ids(assetRules), Ids(packageRules), Ids(feeRules), FeeLimit);
        FeesOfChosen = assetRules.Count + packageRules.Count > 0;
        ChosenFees = feeRules.Select(r => r.Value).ToHashSet();

        var emails = RulesOf("emails");
        var emailsPage = (int)Math.Clamp(EmailsPage ?? 1, 1, Math.Max(1, (emails.Count + EmailsPageSize - 1) / EmailsPageSize));
        Emails = emails.OrderBy(r => r.Value, StringComparer.Ordinal).Skip((emailsPage - 1) * EmailsPageSize).Take(EmailsPageSize).ToList();
        EmailsPager = new PromotionsPager(emails.Count, emailsPage, EmailsPageSize, "emails_page", "emails", "Email pages");

        Batches = await CodeBatchView.List(connection, merchantId, id, new PageRequest(1, 10));
        History = await VoucherRedemptions.Run(db, merchantId, id, Math.Max(1, HistoryPage ?? 1), HistoryPageSize);
        HistoryAssets = await VoucherCatalog.Named(connection, merchantId, "assets",
            History.Collection.Where(r => r.ItemId is not null).Select(r => r.ItemId!.Value).Distinct().ToArray());
        HistoryPackages = await VoucherCatalog.Named(connection, merchantId, "packages",
            History.Collection.Where(r => r.PackageId is not null).Select(r => r.PackageId!.Value).Distinct().ToArray());
        return true;
    }
}
