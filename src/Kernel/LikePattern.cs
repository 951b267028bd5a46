namespace Gatehouse.Kernel;

/// <summary>Case-insensitive "contains" searches: the pattern to compare with <c>lower(column) like @pattern</c>.</summary>
public static class LikePattern
{
    /// <summary>%fragment% for a typed fragment, lower-cased, its wildcards escaped; null for a blank one (no filter).</summary>
    public static string? Containing(string? text) => string.IsNullOrWhiteSpace(text) ? null
        : "%" + text.Trim().ToLowerInvariant().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
}
