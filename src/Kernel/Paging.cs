namespace Gatehouse.Kernel;

/// <summary>Page and page size from the query string, checked: page ≥ 1, 1 ≤ size ≤ max.</summary>
public readonly record struct PageRequest(int Page, int Size)
{
    public int Offset => (Page - 1) * Size;

    public static PageRequest From(int? page, int? size, int defaultSize = 15, int maxSize = 100)
    {
        var errors = new FieldErrors();
        if (page is < 1) errors.Add("page", "must be 1 or more");
        if (size is < 1) errors.Add("size", "must be 1 or more");
        if (page is > 1_000_000) errors.Add("page", "is too large");
        errors.ThrowIfAny();
        return new PageRequest(page ?? 1, Math.Min(size ?? defaultSize, maxSize));
    }
}

/// <summary>The v1 list shape: {collection, total, page, offset, limit}.</summary>
public sealed record OffsetPage<T>(IReadOnlyList<T> Collection, long Total, int Page, int Offset, int Limit)
{
    public static OffsetPage<T> Of(IReadOnlyList<T> items, long total, PageRequest page) =>
        new(items, total, page.Page, page.Offset, page.Size);
}

/// <summary>The gift-voucher list shape: {total, page, size, collection}.</summary>
public sealed record SizedPage<T>(long Total, int Page, int Size, IReadOnlyList<T> Collection)
{
    public static SizedPage<T> Of(IReadOnlyList<T> items, long total, PageRequest page) =>
        new(total, page.Page, page.Size, items);
}
