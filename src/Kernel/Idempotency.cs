using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Microsoft.OpenApi;
using Npgsql;

namespace Gatehouse.Kernel;

/// <summary>
/// The Idempotency-Key header of writes that create or spend something, with Stripe's semantics. The first request
/// with a key claims it, runs, and its answer is stored; a retry with the same key, method, path, query and body gets
/// that answer again byte for byte, marked Idempotent-Replayed: true; the same key with other parameters is a 409,
/// and so is a retry while the first request still runs. A 5xx, a 429 or an exception stores nothing, so a retry runs again.
/// Keys belong to the caller (merchant and token subject). Without the header, or without a token, nothing changes.
/// </summary>
public static class Idempotency
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxKeyLength = 255;

    /// <summary>How long a key is remembered: the 24 h the API promises, and a day more for clients' retry queues.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(48);

    /// <summary>A claim still in progress this long after it was made was left by an instance that died.</summary>
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(5);

    private sealed record KeyClaim(long MerchantId, string Caller, string Key, DateTimeOffset ClaimedAt);

    /// <summary>
    /// Makes a route honour Idempotency-Key. This wraps the endpoint's request delegate rather than adding an endpoint
    /// filter: a filter runs after the body is bound (too late to fingerprint its bytes) and returns before the result
    /// is written (too early to store them).
    /// </summary>
    public static RouteHandlerBuilder Idempotent(this RouteHandlerBuilder route)
    {
        route.Add(endpoint =>
        {
            var handle = endpoint.RequestDelegate
                ?? throw new InvalidOperationException($"{endpoint.DisplayName} has no request delegate to make idempotent");
            endpoint.RequestDelegate = context => Handle(context, handle);
        });
        return route.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = Header,
                In = ParameterLocation.Header,
                Description = "A key of your choice (at most 255 characters, kept at least 24 hours) that makes a retry safe: " +
                              "the same key again answers the first response (with Idempotent-Replayed: true) instead of doing it twice; " +
                              "with other parameters, or while the first request runs, it is a 409.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = MaxKeyLength },
            });
            return Task.CompletedTask;
        });
    }

    private static Task Handle(HttpContext context, RequestDelegate endpoint)
    {
        var header = context.Request.Headers[Header];
        if (header.Count == 0 || Caller(context.User) is not (var merchantId, var caller)) return endpoint(context);
        return HandleWithKey(context, endpoint, merchantId, caller, ValidKey(header));
    }

    /// <summary>Whose key it is: the merchant, and the token's role and subject. Anonymous callers have no keys.</summary>
    private static (long MerchantId, string Caller)? Caller(ClaimsPrincipal user)
    {
        var role = user.FindFirstValue(Auth.RoleClaim);
        var subject = user.FindFirstValue(Auth.SubjectClaim);
        return user.Identity?.IsAuthenticated == true && role is not null && subject is not null
               && long.TryParse(user.FindFirstValue(Auth.MerchantIdClaim), out var merchantId)
            ? (merchantId, $"{role}:{subject}")
            : null;
    }

    private static string ValidKey(StringValues header)
    {
        var key = header.Count == 1 ? header[0] ?? "" : throw ApiException.Invalid(Header, "send one key");
        if (string.IsNullOrWhiteSpace(key)) throw ApiException.Invalid(Header, "must not be empty");
        if (key.Length > MaxKeyLength) throw ApiException.Invalid(Header, $"must be at most {MaxKeyLength} characters");
        if (key.Any(char.IsControl)) throw ApiException.Invalid(Header, "must not contain control characters");
        return key;
    }

    private static async Task HandleWithKey(HttpContext context, RequestDelegate endpoint, long merchantId, string caller, string key)
    {
        var fingerprint = await Fingerprint(context.Request);
        var db = context.RequestServices.GetRequiredService<NpgsqlDataSource>();
        var clock = context.RequestServices.GetRequiredService<TimeProvider>();
        for (var attempt = 1; ; attempt++)
        {
            if (await TryClaim(db, merchantId, caller, key, fingerprint, clock.GetUtcNow()) is { } claim)
            {
                await RunAndStore(context, endpoint, db, claim);
                return;
            }
            if (await Earlier(db, merchantId, caller, key) is not { } stored)
            {
                if (attempt == 1) continue; // released between our insert and this read: claim it again
                throw InProgress();
            }
            if (!stored.Fingerprint.AsSpan().SequenceEqual(fingerprint))
                throw ApiException.Conflict("This Idempotency-Key was used with different parameters");
            if (stored.State == "in_progress") throw InProgress();

            var response = context.Response;
            response.StatusCode = stored.StatusCode!.Value;
            response.ContentType = stored.ContentType;
            response.ContentLength = stored.Body!.Length;
            response.Headers[ReplayedHeader] = "true";
            await response.Body.WriteAsync(stored.Body, context.RequestAborted);
            return;
        }
    }

    private static ApiException InProgress() => ApiException.Conflict("A request with this Idempotency-Key is in progress");

    /// <summary>
    /// Claims the key: the insert goes in, or a conflicting row is left alone unless it is this same request's abandoned
    /// claim. created_at comes back as stored (to the microsecond), to recognise our claim when the request ends.
    /// </summary>
    private static async Task<KeyClaim?> TryClaim(NpgsqlDataSource db, long merchantId, string caller, string key, byte[] fingerprint,
        DateTimeOffset now)
    {
        await using var connection = await db.OpenConnectionAsync();
        var claimedAt = await connection.ExecuteScalarAsync<DateTimeOffset?>(
            """
            insert into kernel.idempotency_keys as k (merchant_id, caller, key, fingerprint, state, created_at)
            values (@merchantId, @caller, @key, @fingerprint, 'in_progress', @now)
            on conflict (merchant_id, caller, key) do update set created_at = excluded.created_at
            where k.state = 'in_progress' and k.created_at <= @abandonedBefore and k.fingerprint = excluded.fingerprint
            returning created_at
            """, new { merchantId, caller, key, fingerprint, now, abandonedBefore = now - AbandonedAfter });
        return claimedAt is { } at ? new KeyClaim(merchantId, caller, key, at) : null;
    }

    private static async Task<(byte[] Fingerprint, string State, int? StatusCode, string? ContentType, byte[]? Body)?> Earlier(
        NpgsqlDataSource db, long merchantId, string caller, string key)
    {
        await using var connection = await db.OpenConnectionAsync();
        return await connection.QuerySingleOrDefaultAsync<(byte[] Fingerprint, string State, int? StatusCode, string? ContentType, byte[]? Body)?>(
            """
            select fingerprint, state, status_code, content_type, body from kernel.idempotency_keys
            where merchant_id = @merchantId and caller = @caller and key = @key
            """, new { merchantId, caller, key });
    }

    /// <summary>
    /// Runs the endpoint into a buffer, stores its answer, then sends it. A refusal by the use case (a 4xx: invalid input,
    /// not found, conflict) is stored and replayed like a success: it may depend on data that changes (a viewer created
    /// later), and a key must keep meaning one outcome. Fix the request and send it with a new key.
    /// </summary>
    private static async Task RunAndStore(HttpContext context, RequestDelegate endpoint, NpgsqlDataSource db, KeyClaim claim)
    {
        var response = context.Response;
        var client = response.Body;
        using var buffer = new MemoryStream();
        response.Body = buffer;
        try
        {
            try
            {
                await endpoint(context);
            }
            catch (ApiException e)
            {
                buffer.SetLength(0);
                await ApiErrors.WriteAsync(context, e.Status, e.Message, e.Errors);
            }
            // A bare error status gets here the body UseApiErrors would give it outside, so that a replay carries it too.
            if (response.StatusCode >= 400 && buffer.Length == 0 && response.ContentType is null)
                await ApiErrors.WriteAsync(context, response.StatusCode);
            await response.BodyWriter.FlushAsync(context.RequestAborted);
        }
        catch
        {
            response.Body = client;
            await Release(db, claim);
            throw;
        }
        response.Body = client;

        // A 429 says "later", not "no": storing it would refuse the retry it asks for.
        if (response.StatusCode >= 500 || response.StatusCode == StatusCodes.Status429TooManyRequests)
            await Release(db, claim);
        else
            await Store(db, claim, response.StatusCode, response.ContentType, buffer.ToArray());
        buffer.Position = 0;
        await buffer.CopyToAsync(client, context.RequestAborted);
    }

    private static async Task Store(NpgsqlDataSource db, KeyClaim claim, int statusCode, string? contentType, byte[] body)
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            update kernel.idempotency_keys set state = 'done', status_code = @statusCode, content_type = @contentType, body = @body
            where merchant_id = @MerchantId and caller = @Caller and key = @Key and state = 'in_progress' and created_at = @ClaimedAt
            """, new { claim.MerchantId, claim.Caller, claim.Key, claim.ClaimedAt, statusCode, contentType, body });
    }

    /// <summary>Gives the key back, so that a retry runs the request again.</summary>
    private static async Task Release(NpgsqlDataSource db, KeyClaim claim)
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            delete from kernel.idempotency_keys
            where merchant_id = @MerchantId and caller = @Caller and key = @Key and state = 'in_progress' and created_at = @ClaimedAt
            """, claim);
    }

    /// <summary>SHA-256 of the method, path, query and body; the body is kept readable for the endpoint.</summary>
    private static async Task<byte[]> Fingerprint(HttpRequest request)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, request.Method);
        Append(hash, request.PathBase + request.Path);
        Append(hash, request.QueryString.Value ?? "");
        if (request.HasFormContentType && request.ContentType!.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            // A multipart body's boundary is chosen afresh for each request, so a retry's bytes differ: hash its parts.
            // The form is read once; the endpoint gets the same parsed form.
            var form = await RequestBody.ReadFormAsync(request);
            foreach (var (name, values) in form)
            {
                Append(hash, name);
                foreach (var value in values) Append(hash, value ?? "");
            }
            foreach (var file in form.Files)
            {
                Append(hash, file.Name);
                Append(hash, file.FileName);
                Append(hash, file.ContentType ?? "");
                hash.AppendData(BitConverter.GetBytes(file.Length));
                await using var content = file.OpenReadStream();
                await AppendStream(hash, content, request.HttpContext.RequestAborted);
            }
        }
        else
        {
            request.EnableBuffering();
            await AppendStream(hash, request.Body, request.HttpContext.RequestAborted);
            request.Body.Position = 0;
        }
        return hash.GetHashAndReset();
    }

    /// <summary>Length-prefixed, so that ("ab", "c") and ("a", "bc") differ.</summary>
    private static void Append(IncrementalHash hash, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        hash.AppendData(BitConverter.GetBytes(bytes.Length));
        hash.AppendData(bytes);
    }

    private static async Task AppendStream(IncrementalHash hash, Stream stream, CancellationToken cancellationToken)
    {
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0) hash.AppendData(chunk, 0, read);
    }
}
