using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gatehouse.Kernel;

/// <summary>The API's JSON: snake_case names, numbers accepted as strings (form values arrive as strings).</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions o)
    {
        o.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        o.DictionaryKeyPolicy = null; // metadata keys are the client's own
        o.NumberHandling = JsonNumberHandling.AllowReadingFromString;
        o.PropertyNameCaseInsensitive = true;
        o.UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip;
        o.Converters.Add(new LenientBooleanConverter());
        o.Converters.Add(new LenientDateTimeOffsetConverter());
        return o;
    }

    /// <summary>Form posts send booleans as text: true/false, 1/0, on/off, yes/no.</summary>
    private sealed class LenientBooleanConverter : JsonConverter<bool>
    {
        public override bool Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.True: return true;
                case JsonTokenType.False: return false;
                case JsonTokenType.Number when reader.TryGetInt64(out var n) && n is 0 or 1: return n == 1;
                case JsonTokenType.String:
                    switch (reader.GetString()!.Trim().ToLowerInvariant())
                    {
                        case "true" or "1" or "on" or "yes": return true;
                        case "false" or "0" or "off" or "no": return false;
                    }
                    break;
            }
            throw new JsonException("must be a boolean");
        }

        public override void Write(Utf8JsonWriter writer, bool value, JsonSerializerOptions options) =>
            writer.WriteBooleanValue(value);
    }

    /// <summary>Accepts ISO 8601 with or without time ("2017-01-10" as the spec's samples send), read as UTC.</summary>
    private sealed class LenientDateTimeOffsetConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.String && TryParseUtc(reader.GetString(), out var value)) return value;
            if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var unix)
                && unix is >= 0 and < 253402300800) return DateTimeOffset.FromUnixTimeSeconds(unix);
            throw new JsonException("must be a date (ISO 8601)");
        }

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
    }

    public static bool TryParseUtc(string? text, out DateTimeOffset value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        if (!DateTimeOffset.TryParse(text.Trim(), CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)) return false;
        if (parsed.Year is < 1900 or > 9999) return false;
        value = parsed.ToUniversalTime();
        return true;
    }
}
