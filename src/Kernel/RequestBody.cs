using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Kernel;

/// <summary>
/// A request body read the same way whatever it was sent as: form-urlencoded with bracket keys
/// (<c>metadata[k]=v</c>, <c>rules[0][type]=assets</c>), multipart, or JSON. Bind it as an endpoint
/// parameter and read it with <see cref="As{T}"/>; <see cref="Has"/> tells "absent" from "blank" for patches.
/// </summary>
public sealed class RequestBody
{
    private const int MaxDepth = 8;
    private const long MaxJsonBytes = 1024 * 1024;

    public JsonObject Fields { get; }
    public IFormFileCollection Files { get; }

    private RequestBody(JsonObject fields, IFormFileCollection? files)
    {
        Fields = fields;
        Files = files ?? new FormFileCollection();
    }

    public bool Has(string field) => Fields.ContainsKey(field);

    public T As<T>()
    {
        try
        {
            return Fields.Deserialize<T>(Json.Options) ?? throw ApiException.BadRequest("A request body is required");
        }
        catch (JsonException e)
        {
            throw ApiException.Invalid(FieldName(e.Path), Describe(e, typeof(T)));
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException)
        {
            throw ApiException.BadRequest("Malformed request");
        }
    }

    public static async ValueTask<RequestBody> BindAsync(HttpContext context, ParameterInfo parameter) =>
        await ReadAsync(context.Request);

    public static async Task<RequestBody> ReadAsync(HttpRequest request)
    {
        if (request.ContentLength == 0 || (request.ContentLength is null && !request.Headers.ContainsKey("Transfer-Encoding")))
            return new RequestBody(new JsonObject(), null);

        var contentType = request.ContentType ?? "";
        if (request.HasFormContentType)
        {
            var form = await ReadFormAsync(request);
            return new RequestBody(FromPairs(form), form.Files);
        }

        if (contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            || contentType.Contains("+json", StringComparison.OrdinalIgnoreCase))
        {
            if (request.ContentLength > MaxJsonBytes) throw new ApiException(413, "Request body too large");
            JsonNode? node;
            try
            {
                // Duplicate fields are refused here: JsonObject would otherwise throw on first use, deep in a use case.
                node = await JsonNode.ParseAsync(request.Body,
                    documentOptions: new JsonDocumentOptions { MaxDepth = 32, AllowDuplicateProperties = false },
                    cancellationToken: request.HttpContext.RequestAborted);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException) // the latter: a field name that is not valid UTF-16
            {
                throw ApiException.BadRequest("Malformed JSON body");
            }
            CheckText(node, "");
            return node switch
            {
                JsonObject obj => new RequestBody(obj, null),
                null => new RequestBody(new JsonObject(), null),
                _ => throw ApiException.BadRequest("The JSON body must be an object"),
            };
        }

        throw new ApiException(415, "Unsupported media type: send application/x-www-form-urlencoded, multipart/form-data or application/json");
    }

    /// <summary>
    /// Reads every name and string of a JSON body now: an escape that is not valid UTF-16 (a lone surrogate, "\ud800")
    /// parses, then throws wherever a use case reads it, which answered 500. A NUL ("\u0000") is refused too: PostgreSQL
    /// text cannot hold one, and sent as a parameter it failed the statement with a 500 (and, auto-prepared, left the
    /// pooled connection out of step, failing the next request on it).
    /// </summary>
    private static void CheckText(JsonNode? node, string field)
    {
        try
        {
            switch (node)
            {
                case JsonObject obj:
                    foreach (var (key, child) in obj)
                    {
                        if (key.Contains('\0')) throw NulRefused(field);
                        CheckText(child, field.Length == 0 ? key : $"{field}[{key}]");
                    }
                    break;
                case JsonArray array:
                    for (var i = 0; i < array.Count; i++) CheckText(array[i], $"{field}[{i}]");
                    break;
                case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                    if (value.GetValue<string>().Contains('\0')) throw NulRefused(field);
                    break;
            }
        }
        catch (InvalidOperationException)
        {
            throw field.Length == 0 ? ApiException.BadRequest("Malformed JSON body: a field name is not valid text")
                : ApiException.Invalid(field, "is not valid text");
        }
    }

    /// <summary>
    /// The form, or a 400 when it cannot be read: a multipart body without its boundary or cut short, a value that is
    /// not valid text (a NUL, bad UTF-8), more fields than the framework's limits. The framework throws those as
    /// InvalidDataException and IOException, which would otherwise answer 500 (a body over the size limit stays a 413).
    /// </summary>
    public static async Task<IFormCollection> ReadFormAsync(HttpRequest request)
    {
        try
        {
            return await request.ReadFormAsync(request.HttpContext.RequestAborted);
        }
        catch (InvalidDataException e)
        {
            throw ApiException.BadRequest($"Malformed form body: {e.Message}");
        }
        catch (IOException e) when (e is not BadHttpRequestException && !request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            throw ApiException.BadRequest("Malformed form body: it ends before its closing boundary");
        }
    }

    private static ApiException NulRefused(string field) => field.Length == 0
        ? ApiException.BadRequest("Malformed request body: a field name contains a NUL character")
        : ApiException.Invalid(field, "must not contain NUL characters");

    /// <summary>Builds a JSON tree from bracket keys. Blank values count as not given. NULs are refused as in JSON.</summary>
    public static JsonObject FromPairs(IEnumerable<KeyValuePair<string, StringValues>> pairs)
    {
        var root = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, values) in pairs)
        {
            if (key.Contains('\0')) throw NulRefused("");
            if (values.Any(v => v?.Contains('\0') == true)) throw NulRefused(key);
            var path = ParseKey(key);
            foreach (var value in values.Count == 0 ? [""] : values.ToArray()) Insert(root, path, 0, value ?? "", key);
        }
        return (JsonObject)ToNode(root, topLevel: true)!;
    }

    private static List<string> ParseKey(string key)
    {
        var open = key.IndexOf('[');
        if (open < 0) return [key];
        if (open == 0) throw ApiException.Invalid(key, "is not a valid field name");
        var path = new List<string> { key[..open] };
        var i = open;
        while (i < key.Length)
        {
            if (key[i] != '[') throw ApiException.Invalid(key, "is not a valid field name");
            var close = key.IndexOf(']', i);
            if (close < 0) throw ApiException.Invalid(key, "is not a valid field name");
            path.Add(key[(i + 1)..close]);
            i = close + 1;
        }
        if (path.Count > MaxDepth) throw ApiException.Invalid(path[0], "is nested too deeply");
        return path;
    }

    private static void Insert(Dictionary<string, object?> node, List<string> path, int index, string value, string key)
    {
        var segment = path[index];
        if (segment.Length == 0) segment = node.Count.ToString(); // key[] appends
        if (index == path.Count - 1)
        {
            node[segment] = value; // a repeated scalar key: the last value wins
            return;
        }
        if (!node.TryGetValue(segment, out var child) || child is not Dictionary<string, object?> childNode)
        {
            if (child is string) throw ApiException.Invalid(key, "conflicts with another field of the same name");
            childNode = new Dictionary<string, object?>(StringComparer.Ordinal);
            node[segment] = childNode;
        }
        Insert(childNode, path, index + 1, value, key);
    }

    private static JsonNode? ToNode(object? value, bool topLevel = false)
    {
        if (value is string s) return s.Length == 0 ? null : JsonValue.Create(s);
        var node = (Dictionary<string, object?>)value!;
        if (!topLevel && node.Count > 0 && node.Keys.All(k => k.Length <= 9 && k.All(char.IsAsciiDigit)))
        {
            var array = new JsonArray();
            foreach (var (_, item) in node.OrderBy(p => int.Parse(p.Key))) array.Add(ToNode(item));
            return array;
        }
        var obj = new JsonObject();
        foreach (var (k, item) in node) obj[k] = ToNode(item);
        return obj;
    }

    private static string FieldName(string? jsonPath)
    {
        if (string.IsNullOrEmpty(jsonPath) || jsonPath == "$") return "body";
        var sb = new StringBuilder();
        var parts = jsonPath.TrimStart('$').Split('.', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i].Replace("['", "[").Replace("']", "]");
            sb.Append(i == 0 ? part : $"[{part.Replace("[", "][").TrimEnd(']')}]");
        }
        return sb.ToString();
    }

    /// <summary>Says what the field should have been, from the type of the member it binds to.</summary>
    private static string Describe(JsonException e, Type target)
    {
        if (e.InnerException is null && e.Message.StartsWith("must ", StringComparison.Ordinal)) return e.Message;
        var type = MemberType(target, e.Path);
        type = Nullable.GetUnderlyingType(type ?? typeof(object)) ?? type;
        return type switch
        {
            _ when type == typeof(int) || type == typeof(long) || type == typeof(short) => "must be a whole number",
            _ when type == typeof(decimal) || type == typeof(double) || type == typeof(float) => "must be a number",
            _ when type == typeof(bool) => "must be a boolean",
            _ when type == typeof(DateTimeOffset) || type == typeof(DateTime) => "must be a date (ISO 8601)",
            _ when type == typeof(Guid) => "must be a uuid",
            _ when type == typeof(string) => "must be text",
            _ when type is not null && type.IsAssignableTo(typeof(System.Collections.IDictionary)) => "must be a set of key-value pairs",
            _ when type is not null && type != typeof(string) && type.IsAssignableTo(typeof(System.Collections.IEnumerable)) => "must be a list",
            _ => "is not valid",
        };
    }

    private static Type? MemberType(Type type, string? jsonPath)
    {
        if (string.IsNullOrEmpty(jsonPath)) return null;
        Type? current = type;
        foreach (var raw in jsonPath.TrimStart('$').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            var segment = raw.Split('[')[0];
            if (current is null) return null;
            if (current.IsGenericType && current.GetGenericTypeDefinition() == typeof(Dictionary<,>))
                current = current.GetGenericArguments()[1];
            else
                current = current.GetProperties().FirstOrDefault(p =>
                    JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name) == segment)?.PropertyType;
            if (raw.Contains('[') && current is not null)
                current = current.IsArray ? current.GetElementType() : current.GetGenericArguments().LastOrDefault();
        }
        return current;
    }
}

public static class RequestBodyRoutes
{
    /// <summary>Documents a route's body as T and admits the three encodings RequestBody reads.</summary>
    public static Microsoft.AspNetCore.Builder.RouteHandlerBuilder AcceptsBody<T>(this Microsoft.AspNetCore.Builder.RouteHandlerBuilder route)
        where T : notnull =>
        route.Accepts<T>("application/x-www-form-urlencoded", "application/json", "multipart/form-data");
}
