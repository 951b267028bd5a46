using Gatehouse.Kernel;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Access.Pages.Admin;

/// <summary>Previous / next links for a list page; each keeps the current query string and changes only <c>page</c>.</summary>
public sealed record Pager(long Total, int Page, int Size)
{
    public long LastPage => Math.Max(1, (Total + Size - 1) / Size);

    public static Pager Of<T>(OffsetPage<T> list) => new(list.Total, list.Page, list.Limit);

    public static string Url(HttpRequest request, int page) =>
        request.Path + QueryString.Create(request.Query.Where(p => p.Key != "page")
            .Select(p => new KeyValuePair<string, string?>(p.Key, p.Value.ToString()))
            .Append(new("page", page.ToString(System.Globalization.CultureInfo.InvariantCulture)))).ToUriComponent();
}
