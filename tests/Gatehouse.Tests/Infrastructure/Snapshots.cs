using System.Runtime.CompilerServices;
using Newtonsoft.Json.Linq;
using Snapshooter;
using Snapshooter.Xunit;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// Pins a response body's shape with Snapshooter. Values that change from run to run (ids, uuids, times,
/// tokens) are replaced by placeholders of the same JSON type; everything else must match exactly.
/// Snapshots live in __snapshots__ beside the test file, named {TestFile}.{TestMethod}[_{name}].snap.
/// </summary>
public static class Snapshots
{
    public static void MatchSnapshot(this string json, string? name = null,
        [CallerFilePath] string file = "", [CallerMemberName] string member = "")
    {
        var token = JToken.Parse(json);
        Scrub(token);
        var snapshotName = $"{Path.GetFileNameWithoutExtension(file)}.{member}{(name is null ? "" : "_" + name)}.snap";
        Snapshot.Match(token, new SnapshotFullName(snapshotName, Path.GetDirectoryName(file)!));
    }

    public static async Task MatchSnapshot(this IScenarioResult result, string? name = null,
        [CallerFilePath] string file = "", [CallerMemberName] string member = "") =>
        (await result.ReadAsTextAsync()).MatchSnapshot(name, file, member);

    private static void Scrub(JToken token)
    {
        switch (token)
        {
            case JObject obj:
                foreach (var property in obj.Properties().ToList())
                {
                    if (property.Name == "errors") continue; // field names and messages, never volatile
                    if (property.Value.Type is JTokenType.Object or JTokenType.Array) Scrub(property.Value);
                    else if (property.Value.Type != JTokenType.Null && Placeholder(property.Name, property.Value) is { } placeholder)
                        property.Value = placeholder;
                }
                break;
            case JArray array:
                foreach (var item in array) Scrub(item);
                break;
        }
    }

    private static JToken? Placeholder(string key, JToken value)
    {
        var isNumber = value.Type is JTokenType.Integer or JTokenType.Float;
        if (key is "access_token" or "refresh_token" || key.EndsWith("_token")) return "<token>";
        if (key == "uuid" || key.EndsWith("_uuid")) return "00000000-0000-0000-0000-000000000000";
        if (key == "id" || key.EndsWith("_id")) return isNumber ? 0 : "<id>";
        if (key is "expires" or "created" or "date" or "timestamp" or "at" || key.EndsWith("_at") || key.Contains("_at_") || key.EndsWith("_date"))
            return isNumber ? 0 : "<time>";
        if (key is "api_secret" or "client_secret" or "secret") return "<secret>";
        return null;
    }
}
