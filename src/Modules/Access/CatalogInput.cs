using System.Text.Json;
using Gatehouse.Kernel;

namespace Gatehouse.Access;

/// <summary>The checks that creating and editing items, packages and access fees share.</summary>
internal static class CatalogInput
{
    public static readonly string[] Periods = ["hour", "day", "week", "month", "year"];
    public static readonly string[] AccessTypes = ["ppv", "subscription"];

    public static string? Title(FieldErrors errors, string? title, bool required)
    {
        title = title?.Trim();
        if (string.IsNullOrEmpty(title)) { if (required) errors.Add("title", "is required"); }
        else if (title.Length > 250) errors.Add("title", "must be at most 250 characters");
        return title;
    }

    public static void Content(FieldErrors errors, string? content)
    {
        if (content?.Length > 100_000) errors.Add("content", "must be at most 100,000 characters");
    }

    public static void Metadata(FieldErrors errors, IReadOnlyDictionary<string, string?>? metadata)
    {
        if (metadata is null) return;
        if (metadata.Count > 50) errors.Add("metadata", "can hold at most 50 keys");
        foreach (var (key, value) in metadata)
        {
            if (key.Length is 0 or > 64) errors.Add($"metadata[{key}]", "keys must be 1 to 64 characters");
            else if (value?.Length > 2000) errors.Add($"metadata[{key}]", "must be at most 2000 characters");
        }
    }

    public static long[] Ids(string? csv)
    {
        if (string.IsNullOrWhiteSpace(csv)) return [];
        var ids = new List<long>();
        foreach (var part in csv.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            ids.Add(long.TryParse(part, out var id) && id > 0 ? id : throw ApiException.Invalid("ids", "must be positive whole numbers"));
        return ids.Count > 100 ? throw ApiException.Invalid("ids", "at most 100 at a time") : ids.ToArray();
    }
}
