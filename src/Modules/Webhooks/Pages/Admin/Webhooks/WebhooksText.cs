using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Gatehouse.Webhooks.Pages.Admin.Webhooks;

/// <summary>How the Webhooks pages write times, formats, event types and statuses.</summary>
public static class WebhooksText
{
    /// <summary>"2026-03-01 14:05:09 UTC": deliveries are seconds apart, so the log shows seconds.</summary>
    public static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    public static string Utc(DateTimeOffset? at, string none) => at is { } value ? Utc(value) : none;

    /// <summary>A datetime-local input's value (its time is read as UTC).</summary>
    public static string DateTimeInput(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture);

    public static string Format(string format) => format == "inplayer" ? "InPlayer" : "Standard Webhooks";

    /// <summary>An endpoint's events: its list, or "All events" when it asked for none in particular.</summary>
    public static string EventTypes(IReadOnlyList<string> types) => types.Count == 0 ? "All events" : string.Join(", ", types);

    public static string Status(string status) => status switch
    {
        "pending" => "Pending",
        "delivering" => "Delivering",
        "held" => "Held",
        "delivered" => "Delivered",
        "failed" => "Failed",
        _ => status,
    };

    public static string Plural(long count, string unit) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + (count == 1 ? unit : unit + "s");

    /// <summary>The last answer of a message: its status code, or the error when none came.</summary>
    public static string LastAnswer(MessageView message) =>
        message.LastStatus is { } code ? code.ToString(CultureInfo.InvariantCulture) : message.LastError ?? "—";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The payload indented (the page's HTML encoding escapes it); as stored when it is not JSON.</summary>
    public static string PrettyJson(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return JsonSerializer.Serialize(document.RootElement, Indented);
        }
        catch (JsonException)
        {
            return json;
        }
    }
}
