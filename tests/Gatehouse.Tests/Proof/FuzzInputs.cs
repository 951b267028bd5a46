using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Tests.Proof;

/// <summary>Who sends a request: the merchant's back end, a viewer, nobody, or someone with a forged token.</summary>
public enum Who { Merchant, Viewer, Anonymous, Forged }

/// <summary>A documented parameter or body field and the kind of value the document says it takes.</summary>
public sealed record Field(string Name, string Kind);

/// <summary>One operation of the OpenAPI document (a path × a method).</summary>
public sealed record ApiOperation(string Method, string Path, IReadOnlyList<Field> PathParams, IReadOnlyList<Field> Query,
    bool IdempotencyKey, IReadOnlyList<Field> Body, IReadOnlyList<string> BodyTypes)
{
    public string Key => $"{Method} {Path}";
    public bool HasBody => BodyTypes.Count > 0;
    public bool MultipartOnly => BodyTypes is ["multipart/form-data"];

    /// <summary>Every operation of the document, in its order.</summary>
    public static List<ApiOperation> Read(JsonElement document)
    {
        var schemas = document.GetProperty("components").GetProperty("schemas");
        var operations = new List<ApiOperation>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        foreach (var op in path.Value.EnumerateObject())
        {
            if (op.Name is not ("get" or "post" or "put" or "patch" or "delete")) continue;
            var parameters = op.Value.TryGetProperty("parameters", out var p) ? p.EnumerateArray().ToList() : [];
            Field Param(JsonElement x) => new(x.GetProperty("name").GetString()!, Kind(x.TryGetProperty("schema", out var s) ? s : default));
            var body = new List<Field>();
            var types = new List<string>();
            if (op.Value.TryGetProperty("requestBody", out var requestBody))
            {
                foreach (var content in requestBody.GetProperty("content").EnumerateObject())
                {
                    types.Add(content.Name);
                    if (body.Count > 0 || !content.Value.TryGetProperty("schema", out var schema)) continue;
                    if (schema.TryGetProperty("$ref", out var reference))
                        schema = schemas.GetProperty(reference.GetString()!.Split('/')[^1]);
                    if (schema.TryGetProperty("properties", out var properties))
                        body.AddRange(properties.EnumerateObject().Select(f => new Field(f.Name, Kind(f.Value))));
                }
            }
            operations.Add(new ApiOperation(op.Name.ToUpperInvariant(), path.Name,
                parameters.Where(x => x.GetProperty("in").GetString() == "path").Select(Param).ToList(),
                parameters.Where(x => x.GetProperty("in").GetString() == "query").Select(Param).ToList(),
                parameters.Any(x => x.GetProperty("name").GetString() == "Idempotency-Key"), body, types));
        }
        return operations;
    }

    private static string Kind(JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object) return "any";
        var types = !schema.TryGetProperty("type", out var t) ? []
            : t.ValueKind == JsonValueKind.Array ? t.EnumerateArray().Select(x => x.GetString()!).ToList() : [t.GetString()!];
        var format = schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        if (types.Contains("integer")) return "integer";
        if (types.Contains("number")) return "number";
        if (types.Contains("array")) return "array";
        if (types.Contains("object")) return "object";
        if (types.Contains("boolean")) return "boolean";
        if (format == "date-time") return "date";
        if (format == "uuid") return "uuid";
        return types.Contains("string") ? "string" : "any";
    }
}

/// <summary>One request of the run: everything needed to send it again by hand.</summary>
public sealed record FuzzRequest(string Label, Who Who, string Url, byte[]? Body, string? ContentType, string? IdempotencyKey = null)
{
    public string Describe()
    {
        var body = Body is null ? "no body"
            : Body.Length > 300 ? $"{Body.Length} bytes: {Printable(Body[..300])}…" : Printable(Body);
        var url = Url.Length > 200 ? Url[..200] + $"… ({Url.Length} chars)" : Url;
        var key = IdempotencyKey is null ? "" : $" | Idempotency-Key {FuzzInputs.Short(IdempotencyKey)}";
        return $"[{Label}] as {Who}: {url} | {ContentType ?? "no content type"}{key} | {body}";
    }

    private static string Printable(byte[] bytes) =>
        new(Encoding.UTF8.GetString(bytes).Select(c => char.IsControl(c) ? '·' : c).ToArray());
}

/// <summary>The real rows the test made, whose ids fill path parameters and plausible fields.</summary>
public sealed record FuzzWorld(Guid MerchantUuid, string ViewerEmail, long Viewer, long Item, long Package, long Fee, long SubscriptionFee,
    long Pass, long Voucher, string VoucherCode, long Rule, long Batch, long Gift, long Payment, long Subscription, string CancelToken,
    long Endpoint, long Message, long Report, long Schedule, long BulkJob, DateTimeOffset Now);

/// <summary>
/// The requests of one operation: a few that every operation gets (each kind of caller, no body, an empty object,
/// malformed JSON, a wrong content type, every garbage path id), then a sample, drawn with the run's seed, of the rest:
/// each field missing, each field of the wrong JSON type, oversized and huge values, unknown fields, malformed JSON,
/// forms with bracket keys, arrays and repeated keys, multipart, wrong content types and query parameters of the wrong type.
/// </summary>
public sealed class FuzzInputs(ApiOperation op, FuzzWorld world, Random random)
{
    private static readonly string Big = new('x', 100_000);
    private static readonly string Long5000 = new('7', 5000);

    /// <summary>Path ids that are not ids: negative, zero, past a bigint, text, a NUL, 5,000 characters, invalid UTF-8.</summary>
    public static readonly string[] GarbageIds =
        ["-1", "0", "99999999999999999999", "abc", "%00", Long5000, "1.5", "%FF", "9223372036854775807", "%20"];

    /// <summary>Query values of the wrong type, impossible dates and dates in words.</summary>
    public static readonly string[] GarbageQueryValues =
        ["-1", "0", "abc", "99999999999999999999", "2026-13-45", "yesterday", "", "%00", "%FF", Long5000, "1.5", "true", "null"];

    /// <summary>JSON values of the wrong type (or the right type, out of every range) for a field.</summary>
    private static readonly (string Label, string Json)[] WrongJsonValues =
    [
        ("number", "12345"), ("string", "\"abc\""), ("array", "[1,\"a\"]"), ("object", "{\"a\":\"b\"}"), ("null", "null"), ("true", "true"),
        ("100kB", JsonSerializer.Serialize(Big)), ("huge", "99999999999999999999"), ("1e400", "1e400"), ("-1", "-1"), ("fraction", "1.5"),
        ("blank", "\"\""), ("nul", "\"a\\u0000b\""), ("surrogate", "\"\\ud800\""), ("bad-date", "\"2026-13-45\""), ("words", "\"yesterday\""),
        ("min-long", "-9223372036854775809"), ("deep", "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]"),
        ("nul-key object", "{\"k\\u0000\":\"v\"}"), ("surrogate-key object", "{\"\\udc00\":\"v\"}"), ("empty object", "{}"),
        ("object of arrays", "{\"k\":[1,2]}"), ("array of objects", "[{\"a\":1}]"), ("long array", "[" + string.Join(',', Enumerable.Repeat("\"x\"", 2000)) + "]"),
    ];

    /// <summary>Form values that are wrong as text: huge numbers, 100 kB, a NUL, invalid UTF-8, impossible dates.</summary>
    private static readonly (string Label, string Encoded)[] WrongFormValues =
    [
        ("abc", "abc"), ("huge", "99999999999999999999"), ("100kB", Big), ("nul", "a%00b"), ("invalid-utf8", "%FF%FE"), ("-1", "-1"),
        ("bad-date", "2026-13-45"), ("words", "yesterday"), ("fraction", "1.5"), ("space", "%20"),
    ];

    private static readonly (string Label, string Text)[] MalformedJson =
    [
        ("trailing-comma", "{\"a\":1,}"), ("comment", "{/* c */\"a\":1}"), ("single-quotes", "{'a':1}"), ("nan", "{\"a\":NaN}"),
        ("array", "[1,2]"), ("null", "null"), ("string", "\"text\""), ("number", "123"), ("unclosed-string", "{\"a\":\"b"),
        ("bare-word", "{a:1}"), ("deep", new string('[', 200) + new string(']', 200)), ("deep-object", string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100)),
        ("garbage", "\u0001\u0002\u0003"), ("whitespace", "   "),
    ];

    private string Now(TimeSpan offset) => world.Now.Add(offset).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>What a well-meaning caller would send in a field: real ids, real codes, sensible dates.</summary>
    public JsonNode? Plausible(string name, string kind)
    {
        var reports = op.Path.Contains("/reports");
        return name switch
        {
            "item_id" => world.Item,
            "package_id" => world.Package,
            "consumer_id" => world.Viewer,
            "access_fee_id" or "access_fee" => op.Path.Contains("subscriptions") ? world.SubscriptionFee : world.Fee,
            "voucher_code" => world.VoucherCode,
            "endpoint_id" => world.Endpoint,
            "schedule_id" => world.Schedule,
            "email" or "username" or "receiver_email" => world.ViewerEmail,
            "q" => world.ViewerEmail,
            "password" or "password_confirmation" => "correct-horse-1",
            "client_id" => world.MerchantUuid.ToString(),
            "client_secret" => "gh_sk_wrong",
            "grant_type" => "password",
            "type" => reports ? "access" : op.Path.Contains("transactions") ? "ppv" : "consumer",
            "item_type" => "video",
            "access_type" => "ppv",
            "amount" => 4.99,
            "currency" => "EUR",
            "quantity" or "trial_quantity" or "repeat_every" or "discount_duration" or "access_period_quantity" or "per_customer_limit" => 1,
            "period" or "trial_period" or "access_period_unit" or "data_unit" => "day",
            "repeat_unit" => "week",
            "data_last" => 7,
            "number" => "4242424242424242",
            "cvv" => "123",
            "exp_month" => 12,
            "exp_year" => world.Now.Year + 2,
            "payment_method" => 1,
            "is_gift" => false,
            "voucher_type" => "discount",
            "discount" => 50,
            "rebill_discount" => 0,
            "discount_period" => "once",
            "code" => "FUZZNEW1",
            "length" => 8,
            "prefix" => "FZ",
            "suffix" => "",
            "usage_limit" => 10,
            "count" => 3,
            "rules" => new JsonArray(new JsonObject { ["rule_type"] = "assets", ["value"] = world.Item.ToString(CultureInfo.InvariantCulture) }),
            "value" => world.Item.ToString(CultureInfo.InvariantCulture),
            "gateway" => "test",
            "url" => "http://127.0.0.1:9/fuzz",
            "event_types" => new JsonArray("asset.access.granted"),
            "event_type" => "asset.access.granted",
            "format" => "standard",
            "enabled" => false,
            "overlap_hours" => 1,
            "status" => reports ? "active" : op.Path.Contains("subscriptions") ? "active" : op.Path.Contains("webhooks") ? "failed" : "all",
            "record_types" => new JsonArray("purchased"),
            "columns" => new JsonArray("item_id", "consumer_email"),
            "kind" => "once",
            "filter" => "email",
            "search" => op.Path.StartsWith("/vouchers") ? "name:fuzz" : "fuzz",
            "action" => "grant",
            "dry_run" => true,
            "apply_valid_rows" => false,
            "is_active" or "scheduled" => true,
            "page" => 1,
            "limit" or "size" => 10,
            "metadata" => new JsonObject { ["k"] = "v" },
            "start_date" or "starts_at" or "from" or "data_from" or "startDate" or "since" => Now(TimeSpan.FromDays(-1)),
            "run_at" => Now(TimeSpan.FromDays(1)),
            "end_date" or "expires_at" or "access_expires_at" or "to" or "data_to" or "ends_at" or "endDate" => Now(TimeSpan.FromDays(30)),
            _ => kind switch
            {
                "integer" => 1,
                "number" => 1.5,
                "date" => Now(TimeSpan.FromDays(1)),
                "uuid" => world.MerchantUuid.ToString(),
                "boolean" or "any" => true,
                "array" => new JsonArray("fuzz"),
                "object" => new JsonObject { ["k"] = "v" },
                _ => "Fuzz " + name,
            },
        };
    }

    /// <summary>The real id (or token, or rule type) for a path parameter, by the resource the path names.</summary>
    public string PathValue(string name)
    {
        var p = op.Path;
        object value = name switch
        {
            "merchantUuid" => world.MerchantUuid,
            "cancelToken" => world.CancelToken,
            "ruleType" => "assets",
            "itemId" => world.Item,
            "batchId" => world.Batch,
            "ruleId" => world.Rule,
            "id" when p.StartsWith("/v2/items/access-fees/") => world.Fee,
            "id" when p.StartsWith("/items/packages/") || p.StartsWith("/v2/items/packages/") => world.Package,
            "id" when p.StartsWith("/items/") || p.StartsWith("/v2/items/") => world.Item,
            "id" when p.StartsWith("/v2/access/bulk/") => world.BulkJob,
            "id" when p.StartsWith("/v2/access/") => world.Pass,
            "id" when p.StartsWith("/v2/vouchers/gifts/") => world.Gift,
            "id" when p.StartsWith("/vouchers/") || p.StartsWith("/v2/vouchers/") => world.Voucher,
            "id" when p.StartsWith("/v2/payments/") => world.Payment,
            "id" when p.StartsWith("/subscriptions/") || p.StartsWith("/v2/subscriptions/") => world.Subscription,
            "id" when p.StartsWith("/v2/webhooks/messages/") => world.Message,
            "id" when p.StartsWith("/v2/webhooks/") => world.Endpoint,
            "id" when p.StartsWith("/v2/reports/schedules/") => world.Schedule,
            "id" when p.StartsWith("/v2/reports/") => world.Report,
            _ => throw new InvalidOperationException($"No real row for {{{name}}} in {op.Key}: teach FuzzInputs.PathValue about it"),
        };
        return Convert.ToString(value, CultureInfo.InvariantCulture)!;
    }

    public string RealPath(string? garbageFor = null, string? garbage = null) =>
        op.PathParams.Aggregate(op.Path, (path, p) => path.Replace("{" + p.Name + "}", p.Name == garbageFor ? garbage! : PathValue(p.Name)));

    public string PlausibleQuery(string? wrongName = null, string? wrongValue = null) =>
        string.Join('&', op.Query.Select(q => q.Name == wrongName ? $"{q.Name}={wrongValue}" : $"{q.Name}={Uri.EscapeDataString(Text(Plausible(q.Name, q.Kind)))}"));

    public JsonObject PlausibleBody()
    {
        var body = new JsonObject();
        foreach (var f in op.Body) body[f.Name] = Plausible(f.Name, f.Kind);
        return body;
    }

    private static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v => v.ToJsonString(),
        JsonArray a => string.Join(',', a.Select(Text)),
        _ => node.ToJsonString(),
    };

    /// <summary>A body as form pairs with bracket keys, as InPlayer's clients send it (already percent-encoded).</summary>
    private static List<(string Key, string Value)> Pairs(JsonObject body)
    {
        var pairs = new List<(string, string)>();
        void Add(string key, JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (k, v) in o) Add($"{key}[{k}]", v);
                    break;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++) Add($"{key}[{i}]", a[i]);
                    break;
                default:
                    pairs.Add((Uri.EscapeDataString(key).Replace("%5B", "[").Replace("%5D", "]"), Uri.EscapeDataString(Text(node))));
                    break;
            }
        }
        foreach (var (k, v) in body) Add(k, v);
        return pairs;
    }

    private static string Form(IEnumerable<(string Key, string Value)> pairs) => string.Join('&', pairs.Select(p => $"{p.Key}={p.Value}"));

    private static byte[] Multipart(string boundary, IEnumerable<(string Key, string Value)> pairs, bool withFile)
    {
        var sb = new StringBuilder();
        foreach (var (key, value) in pairs)
            sb.Append($"--{boundary}\r\nContent-Disposition: form-data; name=\"{Uri.UnescapeDataString(key)}\"\r\n\r\n{Uri.UnescapeDataString(value)}\r\n");
        if (withFile)
            sb.Append($"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"access.csv\"\r\nContent-Type: text/csv\r\n\r\n" +
                      "user_id,item_id,starts_at,expires_at\r\n1,1,2030-01-01T00:00:00Z,2030-02-01T00:00:00Z\r\n");
        sb.Append($"--{boundary}--\r\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private const string Json = "application/json";
    private const string FormType = "application/x-www-form-urlencoded";
    private const string Boundary = "fuzzboundary7";
    private const string MultipartType = "multipart/form-data; boundary=" + Boundary;

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>The plausible body in the operation's own encoding: JSON, or multipart (with a file) for upload-only routes.</summary>
    public (byte[]? Body, string? Type) PlausibleContent()
    {
        if (!op.HasBody) return (null, null);
        var body = PlausibleBody();
        return op.MultipartOnly ? (Multipart(Boundary, Pairs(body), true), MultipartType) : (Utf8(body.ToJsonString()), Json);
    }

    /// <summary>The requests every operation gets, whatever the sample.</summary>
    public IEnumerable<(string Label, string Url, byte[]? Body, string? Type, string? Key)> Core()
    {
        var path = RealPath();
        var url = Url(path, PlausibleQuery());
        if (op.HasBody || op.Method != "GET")
        {
            yield return ("no body", url, null, null, null);
            yield return ("empty json", url, [], Json, null);
            yield return ("{}", url, Utf8("{}"), Json, null);
            yield return ("truncated json", url, Utf8(Truncate(PlausibleBody().ToJsonString())), Json, null);
            yield return ("text/plain", url, Utf8(PlausibleBody().ToJsonString()), "text/plain", null);
        }
        var (body, type) = PlausibleContent();
        foreach (var p in op.PathParams)
        foreach (var garbage in GarbageIds)
            yield return ($"path {p.Name}={Short(garbage)}", Url(RealPath(p.Name, garbage), PlausibleQuery()), body, type, null);
        if (op.Query.Count > 0 || op.Method == "GET")
            yield return ("query page=-1 limit=abc", Url(path, "page=-1&limit=abc&size=-5"), body, type, null);
    }

    /// <summary>Everything else, from which each run draws its sample.</summary>
    public List<(string Label, string Url, byte[]? Body, string? Type, string? Key)> Pool()
    {
        var pool = new List<(string, string, byte[]?, string?, string?)>();
        var path = RealPath();
        var url = Url(path, PlausibleQuery());
        var (plainBody, plainType) = PlausibleContent();

        // Query parameters of the wrong type, one at a time; a repeated and a bracketed one.
        foreach (var q in op.Query)
        {
            foreach (var value in GarbageQueryValues)
                pool.Add(($"query {q.Name}={Short(value)}", Url(path, PlausibleQuery(q.Name, value)), plainBody, plainType, null));
            pool.Add(($"query {q.Name} repeated", Url(path, PlausibleQuery() + $"&{q.Name}=1&{q.Name}=abc"), plainBody, plainType, null));
            pool.Add(($"query {q.Name}[]", Url(path, $"{q.Name}[]=1&{q.Name}[a]=2"), plainBody, plainType, null));
        }

        if (op.IdempotencyKey)
        {
            pool.Add(("idempotency key 300 chars", url, plainBody, plainType, new string('k', 300)));
            pool.Add(("idempotency key blank", url, plainBody, plainType, " "));
        }

        var plausible = PlausibleBody();
        if (op.HasBody)
        {
            pool.Add(("plausible", url, plainBody, plainType, null));
            pool.Add(("plausible json", url, Utf8(plausible.ToJsonString()), Json, null));
            pool.Add(("plausible form", url, Utf8(Form(Pairs(plausible))), FormType, null));
            pool.Add(("plausible multipart", url, Multipart(Boundary, Pairs(plausible), op.MultipartOnly), MultipartType, null));
            var unknown = plausible.DeepClone().AsObject();
            unknown["unknown_field"] = "x";
            unknown["id"] = 1;
            unknown["merchant_id"] = 1;
            unknown["__proto__"] = new JsonObject { ["admin"] = true };
            pool.Add(("unknown fields", url, Utf8(unknown.ToJsonString()), Json, null));
            pool.Add(("unknown fields form", url, Utf8(Form(Pairs(unknown))), FormType, null));

            foreach (var f in op.Body)
            {
                var missing = plausible.DeepClone().AsObject();
                missing.Remove(f.Name);
                pool.Add(($"missing {f.Name}", url, Utf8(missing.ToJsonString()), Json, null));
                pool.Add(($"missing {f.Name} form", url, Utf8(Form(Pairs(missing))), FormType, null));

                foreach (var (label, json) in WrongJsonValues)
                    pool.Add(($"{f.Name}={label}", url, Utf8(Replace(plausible, f.Name, json)), Json, null));

                var others = Pairs(missing);
                foreach (var (label, encoded) in WrongFormValues)
                    pool.Add(($"{f.Name}={label} form", url, Utf8(Form(others.Append((f.Name, encoded)))), FormType, null));
                pool.Add(($"{f.Name}[b][c] form", url, Utf8(Form(others.Append(($"{f.Name}[b][c]", "1")))), FormType, null));
                pool.Add(($"{f.Name}[] form", url, Utf8(Form(others.Append(($"{f.Name}[]", "1")).Append(($"{f.Name}[]", "2")))), FormType, null));
                pool.Add(($"{f.Name} and {f.Name}[x] form", url, Utf8(Form(others.Append((f.Name, "1")).Append(($"{f.Name}[x]", "2")))), FormType, null));
                pool.Add(($"{f.Name} x1000 form", url, Utf8(Form(others.Concat(Enumerable.Repeat((f.Name, "1"), 1000)))), FormType, null));
                pool.Add(($"{f.Name} file multipart", url, MultipartWithFile(others, f.Name), MultipartType, null));
                pool.Add(($"{f.Name} nul multipart", url, Multipart(Boundary, others.Append((f.Name, "a%00b")), op.MultipartOnly), MultipartType, null));
                pool.Add(($"{f.Name} 100kB multipart", url, Multipart(Boundary, others.Append((f.Name, Big)), op.MultipartOnly), MultipartType, null));
            }
        }

        // Bodies that are not what they say they are, on every operation (routes without a body must ignore or refuse them).
        var text = plausible.ToJsonString();
        foreach (var (label, json) in MalformedJson)
            pool.Add(($"malformed json {label}", url, Utf8(json), Json, null));
        pool.Add(("json with bom", url, [0xEF, 0xBB, 0xBF, .. Utf8(text)], Json, null));
        pool.Add(("json invalid utf8", url, [.. Utf8("{\"name\":\""), 0xFF, 0xFE, 0xC3, .. Utf8("\"}")], Json, null));
        pool.Add(("json nul in a field name", url, Utf8(text.Length > 2 ? text[..^1] + ",\"a\\u0000\":1}" : "{\"a\\u0000\":1}"), Json, null));
        pool.Add(("json duplicate keys", url, Utf8(text.Length > 2 ? text[..^1] + ",\"a\":1,\"a\":2}" : "{\"a\":1,\"a\":2}"), Json, null));
        pool.Add(("json utf-16", url, Encoding.Unicode.GetBytes(text), "application/json; charset=utf-16", null));
        pool.Add(("json +json type", url, Utf8(text), "application/vnd.api+json", null));
        pool.Add(("json over 1 MB", url, Utf8("{\"a\":\"" + new string('x', 1_100_000) + "\"}"), Json, null));
        pool.Add(("form as json", url, Utf8(Form(Pairs(plausible))), Json, null));
        pool.Add(("json as form", url, Utf8(text), FormType, null));
        pool.Add(("form bad percent", url, Utf8("a=%ZZ&b=%&c=%F"), FormType, null));
        pool.Add(("form invalid utf8", url, [.. Utf8("name="), 0xFF, 0xFE, .. Utf8("&x=%C3%28")], FormType, null));
        pool.Add(("form no values", url, Utf8("=&=&&a&=b&[x]=1&a[=1&a]=2"), FormType, null));
        pool.Add(("form 1000 keys", url, Utf8(Form(Enumerable.Range(0, 1000).Select(i => ($"k{i}", "v")))), FormType, null));
        pool.Add(("form 2000 keys", url, Utf8(Form(Enumerable.Range(0, 2000).Select(i => ("k", "v")))), FormType, null));
        pool.Add(("form deep brackets", url, Utf8("a" + string.Concat(Enumerable.Repeat("[b]", 20)) + "=1"), FormType, null));
        pool.Add(("form binary", url, RandomBytes(2048), FormType, null));
        pool.Add(("multipart no boundary", url, Utf8(text), "multipart/form-data", null));
        pool.Add(("multipart wrong boundary", url, Multipart("other", Pairs(plausible), false), MultipartType, null));
        pool.Add(("multipart truncated", url, Multipart(Boundary, Pairs(plausible), false)[..^10], MultipartType, null));
        pool.Add(("multipart garbage", url, RandomBytes(2048), MultipartType, null));
        pool.Add(("application/xml", url, Utf8("<a><b>1</b></a>"), "application/xml", null));
        pool.Add(("octet-stream", url, RandomBytes(512), "application/octet-stream", null));
        pool.Add(("no content type", url, Utf8(text), null, null));
        pool.Add(("bad content type", url, Utf8(text), "not a media type;;", null));
        return pool;
    }

    private static byte[] MultipartWithFile(IEnumerable<(string Key, string Value)> pairs, string field)
    {
        var bytes = Multipart(Boundary, pairs, false);
        var file = $"--{Boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"x.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\u0001\u0002binary\r\n";
        return [.. Utf8(file), .. bytes];
    }

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string Replace(JsonObject body, string field, string json)
    {
        var copy = body.DeepClone().AsObject();
        copy[field] = "__FUZZ__";
        return copy.ToJsonString().Replace("\"__FUZZ__\"", json);
    }

    private static string Truncate(string json) => json.Length > 4 ? json[..(json.Length / 2)] : "{\"a\":";

    private static string Url(string path, string query) => query.Length == 0 ? path : $"{path}?{query}";

    public static string Short(string s) => s.Length > 20 ? $"{s[..8]}…({s.Length})" : s;
}
