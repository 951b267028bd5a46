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
        return builder;
    }
}

/// <summary>Vouchers as InPlayer's API reference defines them (v1 and v2), and Gatehouse's additions under /v2/vouchers.</summary>
public sealed class VouchersRoutes : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var vouchers = app.MapGroup("").WithTags("Vouchers");
    }
}
