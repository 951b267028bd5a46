using System.Net.Mail;
using System.Security.Claims;
using CsvHelper;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace Gatehouse.Vouchers;

/// <summary>
/// Where a voucher applies. POST /vouchers/{id}/{rule_type} (the reference's assets, packages and emails; Gatehouse also
/// takes access_fees and payment_types there), GET /v2/vouchers/{id}/rules, DELETE /v2/vouchers/{id}/rules/{rule_id}.
/// No rule of a type means no restriction of that type.
/// </summary>
public static class VoucherRules
{
    public sealed record Added(long Id, string Message, int Code);

    internal sealed record Request(string? Value);

    public static async Task<IResult> HandleAdd(long id, string ruleType, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock)
    {
        var ruleId = await AddOne(db, user.MerchantId(), id, ruleType, body.Fields["value"]?.ToString(), clock.GetUtcNow());
        return Results.Ok(new Added(ruleId, "Voucher rule was successfully added.", 200));
    }

    /// <summary>One rule on one of the merchant's vouchers, in its own transaction: the use case, shared by the API and the
    /// admin's Add buttons and drops.</summary>
    public static async Task<long> AddOne(NpgsqlDataSource db, long merchantId, long voucherId, string ruleType, string? value, DateTimeOffset now)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await EnsureVoucher(connection, transaction, merchantId, voucherId);
        var ruleId = await Add(connection, transaction, merchantId, voucherId, ruleType, value, now);
        await transaction.CommitAsync();
        return ruleId;
    }

    public static async Task<IResult> HandleList(long id, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        var voucher = await VoucherViews.One(connection, user.MerchantId(), id) ?? throw ApiException.NotFound("Voucher not found");
        return Results.Ok(voucher.Rules);
    }

    public static async Task<IResult> HandleRemove(long id, long ruleId, ClaimsPrincipal user, NpgsqlDataSource db)
    {
        await using var connection = await db.OpenConnectionAsync();
        await Remove(connection, user.MerchantId(), id, ruleId);
        return Results.Ok(new { code = 200, message = "Voucher rule was successfully removed." });
    }

    public static async Task Remove(NpgsqlConnection connection, long merchantId, long voucherId, long ruleId, NpgsqlTransaction? transaction = null)
    {
        var removed = await connection.ExecuteAsync(
            """
            delete from vouchers.rules r using vouchers.vouchers v
            where r.id = @ruleId and r.voucher_id = @voucherId and r.merchant_id = @merchantId
              and v.id = r.voucher_id and v.deleted_at is null
            """, new { ruleId, voucherId, merchantId }, transaction);
        if (removed == 0) throw ApiException.NotFound("Voucher rule not found");
    }

    internal static async Task EnsureVoucher(NpgsqlConnection connection, NpgsqlTransaction transaction, long merchantId, long voucherId)
    {
        var exists = await connection.ExecuteScalarAsync<bool>(
            "select exists (select 1 from vouchers.vouchers where id = @voucherId and merchant_id = @merchantId and deleted_at is null and not is_gift)",
            new { voucherId, merchantId }, transaction);
        if (!exists) throw ApiException.NotFound("Voucher not found");
    }

    /// <summary>Adds one rule after checking its value is the merchant's (an asset, package or price option), a valid email
    /// (the viewer need not exist yet) or a payment type. A rule already there is a 409.</summary>
    public static async Task<long> Add(NpgsqlConnection connection, NpgsqlTransaction transaction, long merchantId, long voucherId,
        string ruleType, string? value, DateTimeOffset now)
    {
        var normalized = await Check(connection, transaction, merchantId, ruleType, value, "value");
        var id = await connection.ExecuteScalarAsync<long?>(
            """
            insert into vouchers.rules (merchant_id, voucher_id, rule_type, value, created_at)
            values (@merchantId, @voucherId, @ruleType, @normalized, @now)
            on conflict (voucher_id, rule_type, lower(value)) do nothing
            returning id
            """, new { merchantId, voucherId, ruleType, normalized, now }, transaction);
        return id ?? throw ApiException.Conflict("The voucher already has this rule");
    }

    /// <summary>The rule's value as stored, or a 400 naming <paramref name="field"/>.</summary>
    public static async Task<string> Check(NpgsqlConnection connection, NpgsqlTransaction? transaction, long merchantId, string ruleType,
        string? value, string field)
    {
        value = value?.Trim();
        if (!VoucherViews.RuleTypes.Contains(ruleType))
            throw ApiException.Invalid("rule_type", "must be one of assets, packages, access_fees, emails, payment_types");
        if (string.IsNullOrEmpty(value)) throw ApiException.Invalid(field, "is required");
        switch (ruleType)
        {
            case "emails":
                return NormalizeEmail(value) ?? throw ApiException.Invalid(field, "must be an email address");
            case "payment_types":
                return value is "ppv" or "subscription" ? value : throw ApiException.Invalid(field, "must be ppv or subscription");
        }
        if (!long.TryParse(value, out var id) || id < 1) throw ApiException.Invalid(field, "must be an id");
        var table = ruleType switch { "assets" => "access.items", "packages" => "access.packages", _ => "access.access_fees" };
        var found = await connection.ExecuteScalarAsync<bool>(
            $"select exists (select 1 from {table} where id = @id and merchant_id = @merchantId)", new { id, merchantId }, transaction);
        var what = ruleType switch { "assets" => "asset", "packages" => "package", _ => "price option" };
        return found ? id.ToString() : throw ApiException.Invalid(field, $"is not one of your {what}s");
    }

    /// <summary>An email rule's value (lower case), or null when <paramref name="value"/> is not one plain address.</summary>
    internal static string? NormalizeEmail(string value) =>
        value.Length <= 254 && MailAddress.TryCreate(value, out var address) && address.Address == value ? value.ToLowerInvariant() : null;

    /// <summary>
    /// Makes the voucher's <paramref name="ruleType"/> rules among the <paramref name="offered"/> values exactly the
    /// <paramref name="chosen"/> ones (the admin's Access fees checkboxes), all or nothing in one transaction, each change
    /// through <see cref="Add"/> or <see cref="Remove"/>. Rules of that type that were not offered are left alone.
    /// </summary>
    public static async Task<(int Added, int Removed)> Choose(NpgsqlDataSource db, long merchantId, long voucherId, string ruleType,
        IReadOnlyCollection<string> offered, IReadOnlyCollection<string> chosen, DateTimeOffset now)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var voucher = await VoucherViews.One(connection, merchantId, voucherId, transaction) ?? throw ApiException.NotFound("Voucher not found");
        var current = voucher.Rules.Where(r => r.RuleType == ruleType).ToList();
        var offeredSet = offered.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var chosenSet = chosen.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var removed = 0;
        foreach (var rule in current.Where(r => offeredSet.Contains(r.Value) && !chosenSet.Contains(r.Value)))
        {
            await Remove(connection, merchantId, voucherId, rule.Id, transaction);
            removed++;
        }
        var have = current.Select(r => r.Value).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var added = 0;
        foreach (var value in chosenSet.Where(v => !have.Contains(v)))
        {
            await Add(connection, transaction, merchantId, voucherId, ruleType, value, now);
            added++;
        }
        await transaction.CommitAsync();
        return (added, removed);
    }

    /// <summary>What the admin's "Download the CSV template" gives: the one column and a row of dummy data.</summary>
    public const string EmailsTemplate = "email\nviewer@example.com\n";

    /// <summary>1 MB, some 40,000 addresses: enough for one upload, small enough to read in memory.</summary>
    public const int MaxEmailsFileBytes = 1024 * 1024;

    public sealed record EmailsImported(int Added, int AlreadyListed);

    /// <summary>
    /// Bulk-adds customer emails from a CSV with one column headed <c>email</c>, in the caller's transaction. Addresses already
    /// listed (or repeated in the file) are skipped; if any line is not an address, nothing is added and the first lines at
    /// fault are named. The viewers need not exist yet.
    /// </summary>
    public static async Task<EmailsImported> ImportEmails(NpgsqlConnection connection, NpgsqlTransaction transaction, long merchantId,
        long voucherId, Stream csv, DateTimeOffset now)
    {
        await EnsureVoucher(connection, transaction, merchantId, voucherId);
        // Read one byte past the cap, so a file that is too large is told apart from one that is exactly the cap.
        var content = new byte[MaxEmailsFileBytes + 1];
        var length = await csv.ReadAtLeastAsync(content, content.Length, throwOnEndOfStream: false);
        if (length > MaxEmailsFileBytes) throw new ApiException(StatusCodes.Status413PayloadTooLarge, "The file is larger than 1 MB; split it into smaller files");

        var options = new CsvReaderOptions
        {
            Separator = ',', HasHeader = true, SkipEmptyLines = true, TrimWhitespace = true, TrackLineNumbers = true,
            FieldCountMismatch = CsvFieldCountHandling.Allow, MissingField = CsvMissingFieldHandling.ReturnEmpty,
            MalformedData = CsvMalformedDataHandling.Recover,
        };
        using var reader = CsvReader.Create(content.AsMemory(0, length), options);
        if (reader.Headers is not [var header] || !string.Equals(header.Trim(), "email", StringComparison.OrdinalIgnoreCase))
            throw ApiException.Invalid("file", "must have one column headed email: download the template");
        var emails = new HashSet<string>();
        var invalid = new List<string>();
        var lines = 0;
        while (reader.Read())
        {
            var value = reader.FieldCount == 1 ? reader.GetString(0).Trim() : string.Join(",", Enumerable.Range(0, reader.FieldCount).Select(reader.GetString));
            if (value.Length == 0) continue;
            lines++;
            if (NormalizeEmail(value) is { } email) emails.Add(email);
            else invalid.Add($"line {reader.LineNumber}: {(value.Length > 60 ? value[..60] + "…" : value)}");
        }
        if (invalid.Count > 0)
            throw ApiException.Invalid("file", $"{invalid.Count} {(invalid.Count == 1 ? "line is" : "lines are")} not an email address, so nothing was added ({string.Join("; ", invalid.Take(5))}{(invalid.Count > 5 ? "; …" : "")})");
        if (lines == 0) throw ApiException.Invalid("file", "has no email addresses under its header");

        var added = await connection.ExecuteAsync(
            """
            insert into vouchers.rules (merchant_id, voucher_id, rule_type, value, created_at)
            select @merchantId, @voucherId, 'emails', email, @now from unnest(@emails) email
            on conflict (voucher_id, rule_type, lower(value)) do nothing
            """, new { merchantId, voucherId, emails = emails.ToArray(), now }, transaction);
        return new EmailsImported(added, lines - added);
    }
}
