using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Kernel;

/// <summary>The one error shape of the API: {code, message, errors}.</summary>
public sealed record ApiError(
    int Code,
    string Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Errors = null);

/// <summary>Thrown by use cases to answer with a 4xx in the error shape; nothing has been written when it is thrown.</summary>
public sealed class ApiException(int status, string message, IReadOnlyDictionary<string, string>? errors = null)
    : Exception(message)
{
    public int Status { get; } = status;
    public IReadOnlyDictionary<string, string>? Errors { get; } = errors;

    public static ApiException BadRequest(string message) => new(400, message);
    public static ApiException Invalid(string field, string message) =>
        new(400, "Invalid input", new Dictionary<string, string> { [field] = message });
    public static ApiException Invalid(IReadOnlyDictionary<string, string> errors) => new(400, "Invalid input", errors);
    public static ApiException Unauthorized(string message = "Invalid auth token") => new(401, message);
    public static ApiException Forbidden(string message = "Access forbidden") => new(403, message);
    public static ApiException RequestFailed(string message) => new(402, message);
    public static ApiException NotFound(string message = "Not found") => new(404, message);
    public static ApiException Conflict(string message) => new(409, message);
    public static ApiException TooManyRequests(string message = "Too many requests") => new(429, message);
}

/// <summary>Collects field errors and throws them together, so a client sees every problem at once.</summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, string> _errors = new();
    public void Add(string field, string message) => _errors.TryAdd(field, message);
    public bool Any => _errors.Count > 0;
    public void ThrowIfAny()
    {
        if (_errors.Count > 0) throw ApiException.Invalid(_errors);
    }
}

public static class ApiErrors
{
    public static string DefaultMessage(int status) => status switch
    {
        400 => "Bad request",
        401 => "Invalid auth token",
        402 => "Request failed",
        403 => "Access forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        406 => "Not acceptable",
        409 => "Conflict",
        411 => "Length required",
        413 => "Request body too large",
        415 => "Unsupported media type",
        429 => "Too many requests",
        _ when status >= 500 => "Internal server error",
        _ => "Request failed",
    };

    public static Task WriteAsync(HttpContext context, int status, string? message = null,
        IReadOnlyDictionary<string, string>? errors = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        var body = new ApiError(status, message ?? DefaultMessage(status), errors);
        return response.WriteAsync(JsonSerializer.Serialize(body, Json.Options), context.RequestAborted);
    }

    /// <summary>
    /// Turns every failure into the error shape: thrown ApiExceptions, framework rejections
    /// (bad request, unknown route, wrong method, media type, body size) and unhandled exceptions
    /// (a 500 with no details leaked). Admin pages keep HTML.
    /// </summary>
    public static IApplicationBuilder UseApiErrors(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        // PostgreSQL text cannot hold a NUL: a query value carrying one (search=%00) failed its statement with a 500
        // wherever it was bound. It is refused here, before any route binds it (a body's NULs are refused by RequestBody).
        if (context.Request.QueryString.Value?.Contains("%00", StringComparison.Ordinal) == true)
        {
            await WriteAsync(context, 400, "Malformed request: the query string contains a NUL character (%00)");
            return;
        }
        try
        {
            await next(context);
        }
        catch (ApiException e) when (!context.Response.HasStarted)
        {
            await WriteAsync(context, e.Status, e.Message, e.Errors);
            return;
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            await WriteAsync(context, e.StatusCode, e.StatusCode == 400 ? "Malformed request" : null);
            return;
        }
        catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Gatehouse.Errors")
                .LogError(e, "Unhandled exception on {Method} {Path}", context.Request.Method, context.Request.Path);
            context.Response.Clear();
            await WriteAsync(context, 500);
            return;
        }

        var status = context.Response.StatusCode;
        if (status >= 400 && !context.Response.HasStarted && context.Response.ContentLength is null
            && context.Response.ContentType is null && !IsAdminPath(context.Request.Path))
        {
            await WriteAsync(context, status);
        }
    });

    private static bool IsAdminPath(PathString path) => path.StartsWithSegments("/admin");
}
