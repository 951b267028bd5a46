using Carter;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Vouchers;

public static class VouchersModule
{
    /// <summary>The admin section this module owns: Promotions (vouchers, gift vouchers).</summary>
    public static WebApplicationBuilder AddVouchers(this WebApplicationBuilder builder)
    {
        builder.Services.AddAdminLink("Promotions", "/admin/promotions", order: 400);
        builder.Services.AddTransient<RunCodeBatches>();
        builder.Services.AddSingleton<VoucherGuesses>();
        builder.Services.AddTransient<PruneCodeGuesses>();
        builder.Services.AddSingleton(CodeAlphabet.Default);
        return builder;
    }
}

/// <summary>Vouchers as InPlayer's API reference defines them (v1 and v2), and Gatehouse's additions under /v2/vouchers.</summary>
public sealed class VouchersRoutes : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var vouchers = app.MapGroup("").WithTags("Vouchers");

        // The reference's v1 paths (merchant).
        var v1 = vouchers.MapGroup("/vouchers").RequireAuthorization(Auth.Merchant);
        v1.MapPost("", CreateVoucher.Handle).Idempotent().WithSummary("Create a voucher (a custom code, or one drawn from length, prefix and suffix)")
            .AcceptsBody<VoucherRequest>().Produces<VoucherView>(StatusCodes.Status201Created).Produces<ApiError>(400).Produces<ApiError>(409);
        v1.MapGet("", ListVouchers.Handle).WithSummary("List vouchers; search=id:123&search=name:Foo&search=code:ABC")
            .Produces<OffsetPage<VoucherView>>().Produces<ApiError>(400);
        v1.MapGet("/gifts", GiftVouchers.HandleList).WithSummary("List gift vouchers").Produces<SizedPage<GiftVouchers.GiftView>>();
        v1.MapGet("/{id:long}", ListVouchers.HandleOne).WithSummary("A voucher with its rules").Produces<VoucherView>().Produces<ApiError>(404);
        v1.MapPut("/{id:long}", UpdateVoucher.HandlePut).WithSummary("Update a voucher (name, discount and start_date required; the code never changes)")
            .AcceptsBody<VoucherRequest>().Produces<VoucherView>().Produces<ApiError>(400).Produces<ApiError>(404);
        v1.MapDelete("/{id:long}", DeleteVoucher.Handle).WithSummary("Delete a voucher; its codes are released").Produces<ApiError>(404);
        v1.MapPost("/{id:long}/{ruleType}", VoucherRules.HandleAdd)
            .WithSummary("Add a rule: rule_type assets, packages, emails (the reference's), access_fees or payment_types; value")
            .AcceptsBody<VoucherRules.Request>().Produces<VoucherRules.Added>().Produces<ApiError>(400).Produces<ApiError>(404).Produces<ApiError>(409);

        // What a price option costs with a code: viewers before paying, merchants to preview.
        vouchers.MapPost("/vouchers/discount", VoucherDiscount.Handle).RequireAuthorization(Auth.AnyAccount)
            .WithSummary("The discounted price of a price option with a voucher code").AcceptsBody<VoucherDiscount.Request>()
            .Produces<VoucherDiscount.Price>().Produces<ApiError>(400).Produces<ApiError>(402).Produces<ApiError>(429);

        // v2: the reference's PATCH and gift voucher, and Gatehouse's rules, history and redemption.
        var v2 = vouchers.MapGroup("/v2/vouchers").RequireAuthorization(Auth.Merchant);
        v2.MapPost("", CreateVoucher.Handle).Idempotent().WithSummary("Create a discount or access voucher (voucher_type, access period, per_customer_limit)")
            .AcceptsBody<VoucherRequest>().Produces<VoucherView>(StatusCodes.Status201Created).Produces<ApiError>(400).Produces<ApiError>(409);
        v2.MapPatch("/{id:long}", UpdateVoucher.HandlePatch).WithSummary("Change any field of a voucher but its code")
            .AcceptsBody<VoucherRequest>().Produces<VoucherView>().Produces<ApiError>(400).Produces<ApiError>(404);
        v2.MapGet("/gifts/{id:long}", GiftVouchers.HandleOne).WithSummary("A gift voucher").Produces<GiftVouchers.GiftView>().Produces<ApiError>(404);
        v2.MapGet("/{id:long}/rules", VoucherRules.HandleList).WithSummary("A voucher's rules")
            .Produces<IReadOnlyList<RuleView>>().Produces<ApiError>(404);
        v2.MapPost("/{id:long}/rules/{ruleType}", VoucherRules.HandleAdd)
            .WithSummary("Add a rule (the same as POST /vouchers/{id}/{rule_type}): assets, packages, emails, access_fees or payment_types")
            .AcceptsBody<VoucherRules.Request>().Produces<VoucherRules.Added>().Produces<ApiError>(400).Produces<ApiError>(404).Produces<ApiError>(409);
        v2.MapDelete("/{id:long}/rules/{ruleId:long}", VoucherRules.HandleRemove).WithSummary("Remove a rule").Produces<ApiError>(404);
        v2.MapGet("/{id:long}/redemptions", VoucherRedemptions.Handle).WithSummary("Who used a voucher, newest first")
            .Produces<OffsetPage<VoucherRedemptions.RedemptionView>>().Produces<ApiError>(404);
        vouchers.MapPost("/v2/vouchers/redeem", RedeemVoucher.Handle).RequireAuthorization(Auth.Consumer).Idempotent()
            .WithSummary("Redeem an access voucher or a 100 % voucher on a price option: the pass, no card")
            .AcceptsBody<RedeemVoucher.Request>().Produces<RedeemVoucher.Redeemed>(StatusCodes.Status201Created)
            .Produces<ApiError>(400).Produces<ApiError>(402).Produces<ApiError>(429);

        // Code batches: single-use codes generated in the background, and every code of a voucher as CSV.
        var codes = app.MapGroup("/v2/vouchers").WithTags("Voucher codes").RequireAuthorization(Auth.Merchant);
        codes.MapPost("/{id:long}/code-batches", CreateCodeBatch.Handle).Idempotent()
            .WithSummary("Generate single-use codes for a voucher: count, length, prefix, suffix").AcceptsBody<CreateCodeBatch.CodeBatchRequest>()
            .Produces<CodeBatchView>(StatusCodes.Status202Accepted).Produces<ApiError>(400).Produces<ApiError>(404).Produces<ApiError>(409);
        codes.MapGet("/{id:long}/code-batches", CodeBatchView.HandleList).WithSummary("A voucher's code batches, newest first")
            .Produces<OffsetPage<CodeBatchView>>().Produces<ApiError>(404);
        codes.MapGet("/{id:long}/code-batches/{batchId:long}", CodeBatchView.HandleOne).WithSummary("A code batch and its progress")
            .Produces<CodeBatchView>().Produces<ApiError>(404);
        codes.MapGet("/{id:long}/codes", ExportCodes.Handle).WithSummary("Every code of a voucher with its use (CSV)")
            .Produces(200, contentType: "text/csv").Produces<ApiError>(404);
    }
}
