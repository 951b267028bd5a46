using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Access;

/// <summary>
/// Price options. POST /v2/items/{id}/access-fees and POST /v2/items/packages/{id}/access-fees create one;
/// PATCH /v2/items/access-fees/{id} changes what is sent (<c>is_active=false</c> stops selling it).
/// Fields: access_type (ppv|subscription), amount, currency, quantity × period (hour|day|week|month|year),
/// description, trial_quantity × trial_period (subscriptions only), starts_at, expires_at.
/// </summary>
internal static class SaveAccessFee
{
    internal sealed record Request(
        string? AccessType, decimal? Amount, string? Currency, int? Quantity, string? Period, string? Description,
        int? TrialQuantity, string? TrialPeriod, string? TrialDescription, DateTimeOffset? StartsAt, DateTimeOffset? ExpiresAt,
        bool? IsActive);

    public static async Task<IResult> ForItem(long id, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock) =>
        Results.Json(await Create(db, user.MerchantId(), Resource.Item(id), body.As<Request>(), clock), statusCode: StatusCodes.Status201Created);

    public static async Task<IResult> ForPackage(long id, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock) =>
        Results.Json(await Create(db, user.MerchantId(), Resource.Package(id), body.As<Request>(), clock), statusCode: StatusCodes.Status201Created);

    /// <summary>A new price option of one of the merchant's items or packages: the API and the admin's asset and package pages.</summary>
    public static async Task<AccessFeeView> Create(NpgsqlDataSource db, long merchantId, Resource owner, Request request, TimeProvider clock)
    {
        var errors = new FieldErrors();
        if (request.AccessType is null) errors.Add("access_type", "is required");
        if (request.Amount is null) errors.Add("amount", "is required");
        if (request.Currency is null) errors.Add("currency", "is required");
        if (request.Period is null) errors.Add("period", "is required");
        Check(errors, request, request.AccessType);
        errors.ThrowIfAny();

        await using var connection = await db.OpenConnectionAsync();
        var now = clock.GetUtcNow();
        var id = await connection.ExecuteScalarAsync<long?>(
            """
            insert into access.access_fees (merchant_id, item_id, package_id, access_type, amount, currency, period_quantity, period,
                description, trial_quantity, trial_period, trial_description, starts_at, expires_at, is_active, created_at, updated_at)
            select @merchantId, @itemId, @packageId, @accessType, @amount, upper(@currency), @quantity, @period,
                   @description, @trialQuantity, @trialPeriod, @trialDescription, @startsAt, @expiresAt, @isActive, @now, @now
            where exists (select 1 from access.items where id = @itemId and merchant_id = @merchantId)
               or exists (select 1 from access.packages where id = @packageId and merchant_id = @merchantId)
            returning id
            """,
            new
            {
                merchantId, itemId = owner.ItemId, packageId = owner.PackageId, accessType = request.AccessType, amount = request.Amount,
                currency = request.Currency, quantity = request.Quantity ?? 1, period = request.Period,
                description = request.Description?.Trim() ?? "", trialQuantity = request.TrialQuantity, trialPeriod = request.TrialPeriod,
                trialDescription = request.TrialDescription, startsAt = request.StartsAt, expiresAt = request.ExpiresAt,
                isActive = request.IsActive ?? true, now,
            });
        if (id is null) throw ApiException.NotFound(owner.ItemId is null ? "Package not found" : "Item not found");
        return (await Catalog.Fees(connection, [], [], activeOnly: false, feeIds: [id.Value]))[0];
    }

    public static async Task<IResult> HandleUpdate(long id, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock) =>
        Results.Ok(await Update(db, user.MerchantId(), id, body.As<Request>(), body.Has, clock));

    /// <summary>
    /// Changes what is sent. <paramref name="isSent"/> says which fields the caller sent (snake_case), so that a trial or
    /// a start or end date sent blank is cleared while one not sent is kept.
    /// </summary>
    public static async Task<AccessFeeView> Update(NpgsqlDataSource db, long merchantId, long id, Request request,
        Func<string, bool> isSent, TimeProvider clock)
    {
        await using var connection = await db.OpenConnectionAsync();
        var current = await connection.QuerySingleOrDefaultAsync<string>(
            "select access_type from access.access_fees where id = @id and merchant_id = @merchantId", new { id, merchantId })
            ?? throw ApiException.NotFound("Access fee not found");
        var errors = new FieldErrors();
        Check(errors, request, request.AccessType ?? current);
        errors.ThrowIfAny();

        await connection.ExecuteAsync(
            """
            update access.access_fees set
                access_type = coalesce(@accessType, access_type), amount = coalesce(@amount, amount),
                currency = coalesce(upper(@currency), currency), period_quantity = coalesce(@quantity, period_quantity),
                period = coalesce(@period, period), description = coalesce(@description, description),
                trial_quantity = case when @hasTrial then @trialQuantity else trial_quantity end,
                trial_period = case when @hasTrial then @trialPeriod else trial_period end,
                trial_description = case when @hasTrial then @trialDescription else trial_description end,
                starts_at = case when @hasStartsAt then @startsAt else starts_at end,
                expires_at = case when @hasExpiresAt then @expiresAt else expires_at end,
                is_active = coalesce(@isActive, is_active), updated_at = @now
            where id = @id and merchant_id = @merchantId
            """,
            new
            {
                accessType = request.AccessType, amount = request.Amount, currency = request.Currency, quantity = request.Quantity,
                period = request.Period, description = request.Description?.Trim(),
                hasTrial = isSent("trial_quantity") || isSent("trial_period"), trialQuantity = request.TrialQuantity,
                trialPeriod = request.TrialPeriod, trialDescription = request.TrialDescription,
                hasStartsAt = isSent("starts_at"), startsAt = request.StartsAt, hasExpiresAt = isSent("expires_at"),
                expiresAt = request.ExpiresAt, isActive = request.IsActive, now = clock.GetUtcNow(), id, merchantId,
            });
        return (await Catalog.Fees(connection, [], [], activeOnly: false, feeIds: [id]))[0];
    }

    private static void Check(FieldErrors errors, Request request, string? accessType)
    {
        if (request.AccessType is not null && !CatalogInput.AccessTypes.Contains(request.AccessType))
            errors.Add("access_type", "must be ppv or subscription");
        if (request.Amount is < 0 or > 1_000_000) errors.Add("amount", "must be between 0 and 1,000,000");
        if (request.Amount is { } amount && decimal.Round(amount, 2) != amount) errors.Add("amount", "must have at most 2 decimals");
        if (request.Currency is not null && (request.Currency.Length != 3 || !request.Currency.All(char.IsAsciiLetter)))
            errors.Add("currency", "must be a 3-letter ISO 4217 code");
        if (request.Quantity is < 1 or > 1000) errors.Add("quantity", "must be between 1 and 1000");
        if (request.Period is not null && !CatalogInput.Periods.Contains(request.Period))
            errors.Add("period", "must be one of hour, day, week, month, year");
        if ((request.TrialQuantity is null) != (request.TrialPeriod is null))
            errors.Add("trial_period", "send trial_quantity and trial_period together");
        if (request.TrialQuantity is < 1 or > 1000) errors.Add("trial_quantity", "must be between 1 and 1000");
        if (request.TrialPeriod is not null && !CatalogInput.Periods.Contains(request.TrialPeriod))
            errors.Add("trial_period", "must be one of hour, day, week, month, year");
        if (request.TrialQuantity is not null && accessType == "ppv") errors.Add("trial_period", "only subscriptions have a trial");
        if (request.Description?.Length > 500) errors.Add("description", "must be at most 500 characters");
        if (request.StartsAt is { } s && request.ExpiresAt is { } e && e <= s) errors.Add("expires_at", "must be after starts_at");
    }
}
