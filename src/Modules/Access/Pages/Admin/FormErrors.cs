using System.Globalization;
using System.Text.Json;
using Gatehouse.Kernel;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Gatehouse.Access.Pages.Admin;

/// <summary>
/// What a refused form shows: the use case's <see cref="ApiException"/> (its message, and its field errors under the API's
/// snake_case field names) or what the page could not bind. _FormErrors renders the box; each field shows its own with <see cref="For"/>.
/// </summary>
public sealed class FormErrors
{
    private FormErrors(string message, IReadOnlyDictionary<string, string> fields)
    {
        Message = message;
        Fields = fields;
    }

    public string Message { get; }
    public IReadOnlyDictionary<string, string> Fields { get; }

    public static FormErrors From(ApiException e) => new(e.Message, e.Errors ?? new Dictionary<string, string>());

    /// <summary>Values the form could not even bind ("abc" for a number), named as the API names the field.</summary>
    public static FormErrors? From(ModelStateDictionary state)
    {
        if (state.IsValid) return null;
        var fields = state.Where(entry => entry.Value is { Errors.Count: > 0 })
            .ToDictionary(entry => JsonNamingPolicy.SnakeCaseLower.ConvertName(entry.Key.Split('.')[^1]), _ => "is not valid");
        return new FormErrors("Invalid input", fields);
    }

    public string? For(string field) => Fields.GetValueOrDefault(field);

    /// <summary>The box's lines: each field error in words ("Expires at: must be in the future"), or the message alone.</summary>
    public IEnumerable<string> Lines => Fields.Count == 0 ? [Message] : Fields.Select(f => $"{Label(f.Key)}: {f.Value}");

    private static string Label(string field)
    {
        if (field.StartsWith("metadata[", StringComparison.Ordinal)) return "Metadata";
        var words = field.Replace('_', ' ');
        return words.Length == 0 ? words : char.ToUpper(words[0], CultureInfo.InvariantCulture) + words[1..];
    }
}
