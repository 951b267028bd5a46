using Carter;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Access;

public static class AccessModule
{
    /// <summary>The admin sections this module owns: the catalog (Content), viewers (Audience) and passes (Access).</summary>
    public static WebApplicationBuilder AddAccess(this WebApplicationBuilder builder)
    {
        builder.Services.AddTransient<RunBulkJobs>();
        builder.Services.AddAdminLink("Content", "/admin/content", order: 100);
        builder.Services.AddAdminLink("Audience", "/admin/audience", order: 200);
        builder.Services.AddAdminLink("Access", "/admin/access", order: 300);
        return builder;
    }
}

/// <summary>Assets, packages, access fees, access passes: InPlayer's public reads and Gatehouse's merchant paths.</summary>
public sealed class AccessRoutes : ICarterModule
{
    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var catalog = app.MapGroup("").WithTags("Catalog");

        // Public reads, as InPlayer's SDKs call them (paths with and without v2).
        catalog.MapGet("/items/{id:long}", GetItem.Public).WithSummary("An active asset, without its content")
            .Produces<ItemView>().Produces<ApiError>(404);
        catalog.MapGet("/items/{merchantUuid:guid}/{id:long}", GetItem.PublicOfMerchant).WithSummary("An active asset of a merchant")
            .Produces<ItemView>().Produces<ApiError>(404);
        catalog.MapGet("/v2/items/{id:long}/access-fees", GetItem.AccessFees).WithSummary("An asset's price options")
            .Produces<IReadOnlyList<AccessFeeView>>().Produces<ApiError>(404);
        catalog.MapGet("/items/{id:long}/access-fees", GetItem.AccessFees).WithSummary("An asset's price options (v1 path)")
            .Produces<IReadOnlyList<AccessFeeView>>().Produces<ApiError>(404);
        catalog.MapGet("/items/packages/{id:long}", Packages.Public).WithSummary("An active package")
            .Produces<PackageView>().Produces<ApiError>(404);
        catalog.MapGet("/items/packages/{id:long}/items", Packages.PublicItems).WithSummary("The active assets of a package")
            .Produces<OffsetPage<ItemView>>().Produces<ApiError>(404);

        // The merchant's catalog.
        var merchant = catalog.MapGroup("/v2/items").RequireAuthorization(Auth.Merchant);
        merchant.MapPost("", CreateItem.Handle).WithSummary("Create an asset").AcceptsBody<CreateItem.Request>().Idempotent()
            .Produces<ItemView>(StatusCodes.Status201Created).Produces<ApiError>(400);
        merchant.MapGet("", ListItems.Handle).WithSummary("List your assets").Produces<OffsetPage<ItemView>>();
        merchant.MapGet("/{id:long}", GetItem.OfMerchant).WithSummary("One of your assets, content included")
            .Produces<ItemView>().Produces<ApiError>(404);
        merchant.MapPatch("/{id:long}", UpdateItem.Handle).WithSummary("Edit or deactivate an asset").AcceptsBody<UpdateItem.Request>()
            .Produces<ItemView>().Produces<ApiError>(400).Produces<ApiError>(404);
        merchant.MapPost("/{id:long}/access-fees", SaveAccessFee.ForItem).WithSummary("Add a price option to an asset")
            .AcceptsBody<SaveAccessFee.Request>().Idempotent().Produces<AccessFeeView>(StatusCodes.Status201Created).Produces<ApiError>(400).Produces<ApiError>(404);
        merchant.MapPatch("/access-fees/{id:long}", SaveAccessFee.HandleUpdate).WithSummary("Edit or deactivate a price option")
            .AcceptsBody<SaveAccessFee.Request>().Produces<AccessFeeView>().Produces<ApiError>(400).Produces<ApiError>(404);
        merchant.MapPost("/packages", Packages.HandleCreate).WithSummary("Create a package").AcceptsBody<Packages.Request>().Idempotent()
            .Produces<PackageView>(StatusCodes.Status201Created).Produces<ApiError>(400);
        merchant.MapGet("/packages", Packages.HandleList).WithSummary("List your packages").Produces<OffsetPage<PackageView>>();
        merchant.MapPatch("/packages/{id:long}", Packages.HandleUpdate).WithSummary("Edit or deactivate a package")
            .AcceptsBody<Packages.Request>().Produces<PackageView>().Produces<ApiError>(400).Produces<ApiError>(404);
        merchant.MapPost("/packages/{id:long}/items", Packages.HandleAddItem).WithSummary("Add an asset to a package")
            .AcceptsBody<Packages.AddItemRequest>().Produces<PackageView>().Produces<ApiError>(400).Produces<ApiError>(404);
        merchant.MapDelete("/packages/{id:long}/items/{itemId:long}", Packages.HandleRemoveItem).WithSummary("Remove an asset from a package")
            .Produces<PackageView>().Produces<ApiError>(404);
        merchant.MapPost("/packages/{id:long}/access-fees", SaveAccessFee.ForPackage).WithSummary("Add a price option to a package")
            .AcceptsBody<SaveAccessFee.Request>().Idempotent().Produces<AccessFeeView>(StatusCodes.Status201Created).Produces<ApiError>(400).Produces<ApiError>(404);

        // Access passes.
        var access = app.MapGroup("").WithTags("Access");
        access.MapGet("/items/{id:long}/access", CheckAccess.Handle).RequireAuthorization(Auth.Consumer)
            .WithSummary("Can the signed-in viewer watch this asset? 200 with its content, or 402")
            .Produces<CheckAccess.ItemAccessView>().Produces<ApiError>(402);
        access.MapGet("/items/access/customers", CustomerAccess.Handle).RequireAuthorization(Auth.Consumer)
            .WithSummary("The signed-in viewer's access passes").Produces<CustomerAccess.Page>().Produces<ApiError>(400);
        access.MapPost("/items/access", GrantAccess.Handle).RequireAuthorization(Auth.Merchant)
            .WithSummary("Grant a viewer access to an asset or package").AcceptsBody<GrantAccess.Request>().Idempotent()
            .Produces<PassView>(StatusCodes.Status201Created).Produces<ApiError>(400);
        access.MapGet("/v2/access", SearchAccess.Handle).RequireAuthorization(Auth.Merchant)
            .WithSummary("Search access passes (status, filter, q)").Produces<OffsetPage<PassView>>().Produces<ApiError>(400);
        access.MapGet("/v2/access/{id:long}", SearchAccess.One).RequireAuthorization(Auth.Merchant)
            .WithSummary("One access pass").Produces<PassView>().Produces<ApiError>(404);
        access.MapGet("/v2/access/{id:long}/changes", SearchAccess.HandleChanges).RequireAuthorization(Auth.Merchant)
            .WithSummary("Who changed an access pass, when, and how").Produces<IReadOnlyList<SearchAccess.Change>>().Produces<ApiError>(404);
        access.MapPost("/v2/access/{id:long}/revoke", RevokeAccess.Handle).RequireAuthorization(Auth.Merchant)
            .WithSummary("Revoke an active access pass").Produces<PassView>().Produces<ApiError>(404).Produces<ApiError>(409);
        access.MapPost("/v2/access/{id:long}/extend", ExtendAccess.Handle).RequireAuthorization(Auth.Merchant)
            .WithSummary("Extend an access pass to a later date").AcceptsBody<ExtendAccess.Request>()
            .Produces<PassView>().Produces<ApiError>(400).Produces<ApiError>(404).Produces<ApiError>(409);

        // Bulk grant, revoke and extend from a CSV.
        var bulk = app.MapGroup("/v2/access/bulk").WithTags("Bulk actions").RequireAuthorization(Auth.Merchant);
        bulk.MapGet("/template", UploadBulkFile.HandleTemplate).WithSummary("The CSV template of an action (grant, revoke, extend)")
            .Produces(200, contentType: "text/csv").Produces<ApiError>(400);
        bulk.MapPost("", UploadBulkFile.Handle).WithSummary("Upload a CSV: file, action, dry_run, apply_valid_rows")
            .Accepts<UploadBulkFile.Options>("multipart/form-data").Idempotent().Produces<BulkJobView>(StatusCodes.Status202Accepted)
            .Produces<ApiError>(400).Produces<ApiError>(409).Produces<ApiError>(413);
        bulk.MapGet("", BulkJobView.HandleList).WithSummary("Your bulk jobs, newest first").Produces<OffsetPage<BulkJobView>>();
        bulk.MapGet("/{id:long}", BulkJobView.HandleOne).WithSummary("A bulk job and its progress").Produces<BulkJobView>().Produces<ApiError>(404);
        bulk.MapGet("/{id:long}/results", BulkJobView.HandleResults).WithSummary("Per-row results (CSV)")
            .Produces(200, contentType: "text/csv").Produces<ApiError>(404);
    }
}
