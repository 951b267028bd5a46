using System.Security.Claims;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Gatehouse.Vouchers;

/// <summary>The characters generated codes are made of. A service, so a test can shrink the code space.</summary>
public sealed record CodeAlphabet(string Characters)
{
    /// <summary>Digits and capitals without look-alikes (no 0/O, 1/I/L), so a code read off a printed card is typed right.</summary>
    public static readonly CodeAlphabet Default = new(VoucherInput.Alphabet);

    /// <summary>How many different middles of that length there are.</summary>
    public double Space(int length) => Math.Pow(Characters.Length, length);
}

/// <summary>
/// POST /v2/vouchers/{id}/code-batches (merchant): queues a batch of single-use codes for a voucher, made of
/// prefix + length random characters + suffix; <see cref="RunCodeBatches"/> generates them. Answers 202 with the batch.
/// </summary>
internal static class CreateCodeBatch
{
    public const int MaxCodesPerVoucher = 100_000;
    public const int DefaultLength = 8, MinLength = 4, MaxLength = 64, MaxAffix = 20;
    /// <summary>The code space must hold this many times the request, so random draws rarely collide.</summary>
    public const int SpaceFactor = 10;

    internal sealed record CodeBatchRequest(int? Count, int? Length, string? Prefix, string? Suffix);

    public static async Task<IResult> Handle(long id, RequestBody body, ClaimsPrincipal user, NpgsqlDataSource db, TimeProvider clock,
        CodeAlphabet alphabet, IServiceScopeFactory scopes) =>
        Results.Json(await Run(db, clock, alphabet, scopes, user.MerchantId(), id, body.As<CodeBatchRequest>()),
            statusCode: StatusCodes.Status202Accepted);

    /// <summary>The use case itself, for the API and the admin's voucher page.</summary>
    public static async Task<CodeBatchView> Run(NpgsqlDataSource db, TimeProvider clock, CodeAlphabet alphabet, IServiceScopeFactory scopes,
        long merchantId, long voucherId, CodeBatchRequest request)
    {
        var errors = new FieldErrors();
        if (request.Count is null) errors.Add("count", "is required");
        else if (request.Count is < 1 or > MaxCodesPerVoucher) errors.Add("count", $"must be between 1 and {MaxCodesPerVoucher}");
        var length = request.Length ?? DefaultLength;
        if (length is < MinLength or > MaxLength) errors.Add("length", $"must be between {MinLength} and {MaxLength}");
        var prefix = Affix(errors, "prefix", request.Prefix);
        var suffix = Affix(errors, "suffix", request.Suffix);
        if (request.Count is { } wanted && !errors.Any && alphabet.Space(length) < (double)SpaceFactor * wanted)
        {
            var enough = length;
            while (alphabet.Space(enough) < (double)SpaceFactor * wanted) enough++;
            errors.Add("length", $"is too short for {wanted} codes: use {enough} or more");
        }
        errors.ThrowIfAny();
        var count = request.Count!.Value;

        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        // One batch request per voucher at a time, so two at once cannot both pass the cap below.
        await connection.ExecuteAsync("select pg_advisory_xact_lock(hashtextextended('code_batches:' || @voucherId, 0))",
            new { voucherId }, transaction);
        await CodeBatchView.Voucher(connection, merchantId, voucherId, transaction);
        // A failed batch counts the codes it made; the others what they will make.
        var taken = await connection.ExecuteScalarAsync<int>(
            """
            select coalesce(sum(case when status = 'failed' then generated else requested end), 0)::int
            from vouchers.code_batches where voucher_id = @voucherId and merchant_id = @merchantId
            """, new { voucherId, merchantId }, transaction);
        if (taken + count > MaxCodesPerVoucher)
            throw ApiException.Conflict(
                $"A voucher has at most {MaxCodesPerVoucher} batch codes; this one has {taken} made or queued, so {MaxCodesPerVoucher - taken} more can be added");
        var batchId = await connection.ExecuteScalarAsync<long>(
            """
            insert into vouchers.code_batches (merchant_id, voucher_id, requested, length, prefix, suffix, status, created_at)
            values (@merchantId, @voucherId, @count, @length, @prefix, @suffix, 'queued', @now)
            returning id
            """, new { merchantId, voucherId, count, length, prefix, suffix, now = clock.GetUtcNow() }, transaction);
        await transaction.CommitAsync();
        var queued = (await CodeBatchView.One(connection, merchantId, voucherId, batchId))!;
        RunCodeBatches.StartNow(scopes);
        return queued;
    }

    /// <summary>
    /// A prefix or suffix: ASCII letters, digits, - and _. A prefix may not start with -, which a spreadsheet reads as a
    /// formula: the export would have to escape it, and the codes in the file would no longer be the codes.
    /// </summary>
    private static string Affix(FieldErrors errors, string field, string? value)
    {
        value ??= "";
        if (value.Length > MaxAffix) errors.Add(field, $"must be at most {MaxAffix} characters");
        else if (!value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            errors.Add(field, "may contain only letters, digits, - and _");
        else if (field == "prefix" && value.StartsWith('-')) errors.Add(field, "must not start with -");
        return value;
    }
}
