using System.Globalization;
using Coravel.Invocable;
using Dapper;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Gatehouse.Vouchers;

/// <summary>
/// Voucher code guessing, limited per viewer and per client address (within the merchant): at most
/// RateLimits:VoucherGuessesPerConsumer (default 10) and RateLimits:VoucherGuessesPerAddress (default 30) unknown codes
/// in 10 minutes (0 turns a limit off).
/// Past either, every code is a 429 with Retry-After, a right one included: otherwise the one answer that is not a 429
/// would tell a guesser which code is real. Only unknown codes count, so a viewer using real codes is never limited.
/// The guesses are kept in the database and each code is admitted under advisory locks on the viewer and the address,
/// so the limits hold across instances and concurrent guesses cannot slip past the count together.
/// Every place a viewer submits a code calls <see cref="Admit"/> first: redeem, the discount price and checkout.
/// </summary>
public sealed class VoucherGuesses(IConfiguration configuration, TimeProvider clock)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(10);
    private readonly int _perConsumer = configuration.GetValue("RateLimits:VoucherGuessesPerConsumer", 10);
    private readonly int _perAddress = configuration.GetValue("RateLimits:VoucherGuessesPerAddress", 30);

    private sealed record Guesses(long Consumer, long Address, bool Known);

    /// <summary>
    /// Lets a viewer's code through to the use case when it is the merchant's and neither limit is reached; an unknown
    /// code is recorded and refused (402, as Check refuses it). Runs its own short transaction on the caller's
    /// connection, which must have none open.
    /// </summary>
    public async Task Admit(NpgsqlConnection connection, HttpContext http, long merchantId, long consumerId, string? code)
    {
        code = code?.Trim();
        // No code is not a guess: the use case says it is required.
        if ((_perConsumer <= 0 && _perAddress <= 0) || string.IsNullOrEmpty(code)) return;
        var address = RateLimits.ClientAddress(http);
        var now = clock.GetUtcNow();
        var since = now - Window;

        await using var transaction = await connection.BeginTransactionAsync();
        // The viewer's lock first, then the address's, always in that order: attempts of one viewer or one address
        // take turns, on every instance. One round trip; each statement reads what was committed before its lock.
        // The lookup is the one RedeemVoucher.Check makes (codes over 100 characters are unknown there too).
        Guesses guesses;
        await using (var batch = await connection.QueryMultipleAsync(
            """
            select pg_advisory_xact_lock(hashtextextended('voucher_guesses:consumer:' || @merchantId || ':' || @consumerId, 0));
            select pg_advisory_xact_lock(hashtextextended('voucher_guesses:address:' || @merchantId || ':' || @address, 0));
            select (select count(*) from vouchers.code_guesses
                    where merchant_id = @merchantId and consumer_id = @consumerId and guessed_at > @since) as consumer,
                   (select count(*) from vouchers.code_guesses
                    where merchant_id = @merchantId and address = @address and guessed_at > @since) as address,
                   length(@code) <= 100 and exists (
                       select 1 from vouchers.codes c join vouchers.vouchers v on v.id = c.voucher_id and v.deleted_at is null
                       where c.merchant_id = @merchantId and lower(c.code) = lower(@code)) as known;
            """, new { merchantId, consumerId, address, since, code }, transaction))
        {
            await batch.ReadAsync();
            await batch.ReadAsync();
            guesses = await batch.ReadSingleAsync<Guesses>();
        }

        var consumerFull = _perConsumer > 0 && guesses.Consumer >= _perConsumer;
        var addressFull = _perAddress > 0 && guesses.Address >= _perAddress;
        if (consumerFull || addressFull)
        {
            var freeAt = DateTimeOffset.MinValue;
            if (consumerFull) freeAt = await FreeAt(connection, transaction, false, _perConsumer, merchantId, consumerId, address, since);
            if (addressFull) freeAt = Max(freeAt, await FreeAt(connection, transaction, true, _perAddress, merchantId, consumerId, address, since));
            var seconds = Math.Max(1, (int)Math.Ceiling((freeAt - now).TotalSeconds));
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            throw ApiException.TooManyRequests(consumerFull
                ? $"Too many unknown voucher codes; try again in {Minutes(seconds)}"
                : $"Too many unknown voucher codes from your address; try again in {Minutes(seconds)}");
        }
        if (!guesses.Known)
            await connection.ExecuteAsync(
                """
                insert into vouchers.code_guesses (merchant_id, consumer_id, address, guessed_at)
                values (@merchantId, @consumerId, @address, @now)
                """, new { merchantId, consumerId, address, now }, transaction);
        await transaction.CommitAsync();
        if (!guesses.Known) throw ApiException.RequestFailed(RedeemVoucher.UnknownCode);
    }

    /// <summary>When the oldest of the last <paramref name="limit"/> guesses leaves the window, so that one more fits.</summary>
    private static async Task<DateTimeOffset> FreeAt(NpgsqlConnection connection, NpgsqlTransaction transaction, bool byAddress, int limit,
        long merchantId, long consumerId, string address, DateTimeOffset since) =>
        (await connection.ExecuteScalarAsync<DateTimeOffset?>(byAddress
            ? """
              select guessed_at from vouchers.code_guesses where merchant_id = @merchantId and address = @address and guessed_at > @since
              order by guessed_at desc offset @skip limit 1
              """
            : """
              select guessed_at from vouchers.code_guesses where merchant_id = @merchantId and consumer_id = @consumerId and guessed_at > @since
              order by guessed_at desc offset @skip limit 1
              """, new { merchantId, consumerId, address, since, skip = limit - 1 }, transaction) ?? since) + Window;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static string Minutes(int seconds) => seconds <= 60 ? "a minute" : $"{(seconds + 59) / 60} minutes";
}

/// <summary>Hourly: forgets guesses that no longer count. Idempotent, so instances running it at once do no harm.</summary>
public sealed class PruneCodeGuesses(NpgsqlDataSource db, TimeProvider clock) : IInvocable
{
    public async Task Invoke()
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync("delete from vouchers.code_guesses where guessed_at <= @before",
            new { before = clock.GetUtcNow() - VoucherGuesses.Window });
    }
}
