using System.Text.Json;

namespace Gatehouse.Kernel;

/// <summary>
/// How every <c>metadata[...]</c> field is applied: keys sent with a value are set, keys sent blank are removed,
/// keys not sent are kept. <see cref="Set"/> is also what a new record stores.
/// </summary>
public readonly record struct MetadataChange(string Set, string[] Removed)
{
    public static MetadataChange Of(IReadOnlyDictionary<string, string?>? metadata) => new(
        JsonSerializer.Serialize(metadata?.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value) ?? []),
        metadata?.Where(p => p.Value is null).Select(p => p.Key).ToArray() ?? []);
}
