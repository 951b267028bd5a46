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

        // Code batches: single-use codes generated in the background, and every code of a voucher as CSV.
        var codes = app.MapGroup("/v2/vouchers").WithTags("Voucher codes").RequireAuthorization(Auth.Merchant);
        codes.MapPost("/{id:long}/code-batches", CreateCodeBatch.Handle)
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
