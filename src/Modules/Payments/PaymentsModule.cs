using System.Security.Claims;
using Carter;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Payments;

public static class PaymentsModule
{
    /// <summary>The admin section this module owns: Transactions (payments, subscriptions).</summary>
    public static WebApplicationBuilder AddPayments(this WebApplicationBuilder builder)
    {
        builder.Services.AddAdminLink("Transactions", "/admin/transactions", order: 500);
        builder.Services.AddSingleton<IPaymentGateway, TestGateway>();
        builder.Services.AddSingleton<PaymentGateways>();
        builder.Services.AddTransient<RunRebills>();
        builder.Services.AddTransient<SettlePendingPayments>();
        return builder;
    }
}

/// <summary>Checkout and history on InPlayer's paths, and the merchant's payments, subscriptions and gateway under /v2.</summary>
public sealed class PaymentsRoutes : ICarterModule
{
    public sealed record GatewaySetting(string Gateway, IReadOnlyList<string> Available);

    public sealed record PaymentMethod(int Id, string MethodName, bool IsExternal);

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var checkout = app.MapGroup("").WithTags("Checkout").RequireAuthorization(Auth.Consumer);
        foreach (var path in new[] { "/payments", "/v2/payments" })
            checkout.MapPost(path, Checkout.HandlePayment).Idempotent()
                .WithSummary("Buy a pay-per-view price option with a card (access_fee or access_fee_id), an optional voucher_code, or as a gift (is_gift, receiver_email)")
                .AcceptsBody<Checkout.Request>().Produces<Checkout.Receipt>().Produces<ApiError>(400).Produces<ApiError>(402).Produces<ApiError>(409).Produces<ApiError>(429);
        foreach (var path in new[] { "/subscriptions", "/v2/subscriptions" })
            checkout.MapPost(path, Checkout.HandleSubscription).Idempotent()
                .WithSummary("Subscribe to a subscription price option with a card and an optional voucher_code (an access or 100 % voucher needs no card and creates no subscription)")
                .AcceptsBody<Checkout.Request>().Produces<Checkout.Receipt>().Produces<ApiError>(400).Produces<ApiError>(402).Produces<ApiError>(409).Produces<ApiError>(429);
        checkout.MapGet("/payments/methods", () => new[] { new PaymentMethod(1, "Card", false) })
            .WithSummary("The payment methods a viewer can pay with").Produces<PaymentMethod[]>();

        var history = app.MapGroup("").WithTags("Payment history");
        history.MapGet("/payments/transactions", ListPayments.Handle).RequireAuthorization(Auth.AnyAccount)
            .WithSummary("Transactions: a merchant's all, a viewer's own; search (email, voucher code, transaction token), startDate, endDate, type, status")
            .Produces<ListPayments.TransactionPage>().Produces<ApiError>(400);
        history.MapGet("/v2/accounting/payment-history", ListPayments.HandleHistory).RequireAuthorization(Auth.Consumer)
            .WithSummary("A viewer's payment history").Produces<ListPayments.History>();
        history.MapGet("/v2/payments/{id:long}", ListPayments.HandleOne).RequireAuthorization(Auth.Merchant)
            .WithSummary("One transaction").Produces<TransactionView>().Produces<ApiError>(404);

        var subscriptions = app.MapGroup("").WithTags("Subscriptions");
        subscriptions.MapGet("/subscriptions", ListSubscriptions.HandleMine).RequireAuthorization(Auth.Consumer)
            .WithSummary("A viewer's subscriptions (page, limit, status)").Produces<OffsetPage<SubscriptionView>>().Produces<ApiError>(400);
        subscriptions.MapGet("/subscriptions/{id:long}", ListSubscriptions.HandleMineOne).RequireAuthorization(Auth.Consumer)
            .WithSummary("One of the viewer's subscriptions").Produces<SubscriptionView>().Produces<ApiError>(404);
        subscriptions.MapGet("/subscriptions/cancel/{cancelToken}", CancelSubscription.HandleUnsubscribe).RequireAuthorization(Auth.AnyAccount)
            .WithSummary("The unsubscribe_url: cancels the subscription (the pass runs to its end)")
            .Produces<CancelSubscription.Cancelled>().Produces<ApiError>(404).Produces<ApiError>(409);
        var merchant = app.MapGroup("/v2/subscriptions").WithTags("Subscriptions").RequireAuthorization(Auth.Merchant);
        merchant.MapGet("", ListSubscriptions.HandleMerchant)
            .WithSummary("A merchant's subscriptions: search (email, voucher code), status, startDate, endDate, page, limit")
            .Produces<OffsetPage<SubscriptionView>>().Produces<ApiError>(400);
        merchant.MapGet("/{id:long}", ListSubscriptions.HandleMerchantOne).WithSummary("A subscription with its charges and rebills")
            .Produces<ListSubscriptions.Detail>().Produces<ApiError>(404);
        merchant.MapPost("/{id:long}/cancel", CancelSubscription.HandleMerchant).WithSummary("Cancel a subscription")
            .Produces<SubscriptionView>().Produces<ApiError>(404).Produces<ApiError>(409);

        var gateway = app.MapGroup("/v2/payments/gateway").WithTags("Payment gateway").RequireAuthorization(Auth.Merchant);
        gateway.MapGet("", async (ClaimsPrincipal user, PaymentGateways gateways) =>
                new GatewaySetting((await gateways.For(user.MerchantId())).Name, gateways.Names))
            .WithSummary("The gateway the merchant charges through").Produces<GatewaySetting>();
        gateway.MapPut("", async (RequestBody body, ClaimsPrincipal user, PaymentGateways gateways, TimeProvider clock) =>
            {
                await gateways.Choose(user.MerchantId(), body.As<GatewayRequest>().Gateway, clock.GetUtcNow());
                return new GatewaySetting((await gateways.For(user.MerchantId())).Name, gateways.Names);
            })
            .WithSummary("Pick the gateway: gateway=test (the built-in test gateway)").AcceptsBody<GatewayRequest>()
            .Produces<GatewaySetting>().Produces<ApiError>(400);
    }

    public sealed record GatewayRequest(string? Gateway);
}
