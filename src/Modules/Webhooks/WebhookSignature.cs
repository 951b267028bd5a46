using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Webhooks;

/// <summary>
/// What a delivery sends, in the endpoint's format.
/// <list type="bullet">
/// <item><b>standard</b> (Standard Webhooks): a JSON body <c>{"type", "timestamp", "data"}</c> with the headers
/// webhook-id, webhook-timestamp and webhook-signature <c>v1,&lt;base64 HMAC-SHA256 of "id.timestamp.body"&gt;</c>, the key
/// being the base64 after <c>whsec_</c>; during a rotation one signature per secret, space-separated.</item>
/// <item><b>inplayer</b>: InPlayer's form body <c>id, created, type, version, resource[...]</c> and
/// <c>X-InPlayer-Signature: sha256=&lt;hex HMAC-SHA256 of the raw body&gt;</c>, keyed by the secret's text; during a
/// rotation the header is sent once per secret.</item>
/// </list>
/// </summary>
public static class WebhookSignature
{
    public const string SecretPrefix = "whsec_";

    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));

    /// <summary>The body bytes and content type of one event in a format.</summary>
    public static (byte[] Body, string ContentType) Body(string format, string webhookId, string type, string payloadJson, DateTimeOffset occurredAt) =>
        format == "inplayer"
            ? (Encoding.UTF8.GetBytes(InPlayerForm(webhookId, type, payloadJson, occurredAt)), "application/x-www-form-urlencoded")
            : (StandardJson(type, payloadJson, occurredAt), "application/json");

    /// <summary>The signature headers for one attempt: (name, value) pairs, repeated names allowed.</summary>
    public static IEnumerable<(string Name, string Value)> Headers(string format, string webhookId, long timestamp, byte[] body,
        IEnumerable<string> secrets)
    {
        if (format == "inplayer")
        {
            foreach (var secret in secrets)
                yield return ("X-InPlayer-Signature", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body)));
            yield break;
        }
        yield return ("webhook-id", webhookId);
        yield return ("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        yield return ("webhook-signature", string.Join(' ', secrets.Select(s => "v1," + Standard(s, webhookId, timestamp, body))));
    }

    /// <summary>The Standard Webhooks signature (base64, without the "v1," prefix).</summary>
    public static string Standard(string secret, string webhookId, long timestamp, byte[] body)
    {
        var key = Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);
        var signed = Encoding.UTF8.GetBytes($"{webhookId}.{timestamp.ToString(CultureInfo.InvariantCulture)}.");
        return Convert.ToBase64String(HMACSHA256.HashData(key, (byte[])[.. signed, .. body]));
    }

    private static byte[] StandardJson(string type, string payloadJson, DateTimeOffset occurredAt)
    {
        // The event's JSON goes in as written, byte for byte.
        var head = Encoding.UTF8.GetBytes(
            $"{{\"type\":{JsonSerializer.Serialize(type)},\"timestamp\":\"{occurredAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}\",\"data\":");
        return [.. head, .. Encoding.UTF8.GetBytes(payloadJson), (byte)'}'];
    }

    /// <summary>InPlayer's form: nested objects and arrays flattened into bracket keys (resource[gift][code]=…).</summary>
    private static string InPlayerForm(string webhookId, string type, string payloadJson, DateTimeOffset occurredAt)
    {
        var fields = new List<KeyValuePair<string, string>>
        {
            new("id", webhookId), new("created", occurredAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)), new("type", type),
            new("version", "2.0"),
        };
        using var document = JsonDocument.Parse(payloadJson);
        Flatten("resource", document.RootElement, fields);
        return string.Join('&', fields.Select(f => Uri.EscapeDataString(f.Key) + "=" + Uri.EscapeDataString(f.Value)));
    }

    private static void Flatten(string prefix, JsonElement element, List<KeyValuePair<string, string>> fields)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject()) Flatten($"{prefix}[{property.Name}]", property.Value, fields);
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray()) Flatten($"{prefix}[{i++}]", item, fields);
                break;
            case JsonValueKind.Null or JsonValueKind.Undefined:
                fields.Add(new(prefix, ""));
                break;
            case JsonValueKind.True or JsonValueKind.False:
                fields.Add(new(prefix, element.ValueKind == JsonValueKind.True ? "1" : "0"));
                break;
            case JsonValueKind.String:
                fields.Add(new(prefix, element.GetString()!));
                break;
            default:
                fields.Add(new(prefix, element.GetRawText()));
                break;
        }
    }
}
