using Gatehouse.Access.Pages.Admin;

namespace Gatehouse.Vouchers.Pages.Admin.Promotions;

/// <summary>Something a rule section offers to add: the rule's value and how it reads.</summary>
public sealed record RuleOption(string Value, string Label);

/// <summary>A rule the voucher has, as its section lists it.</summary>
public sealed record ChosenRule(long RuleId, string Value, string Label);

/// <summary>
/// What _RuleLists shows for one rule type (assets, packages, payment types): what can be added on the left, what the
/// voucher has on the right, moved by drag and drop or with the Add and Remove buttons; and the section's own notice
/// or refusal. <see cref="FindParam"/> names the query parameter of the left list's title search, if it has one.
/// </summary>
public sealed record RuleListView(
    string Type, string Title, string Thing, string OfferedHeading, string ChosenHeading, string Explanation, string NoneChosen,
    string NoneOffered, IReadOnlyList<RuleOption> Offered, long OfferedTotal, IReadOnlyList<ChosenRule> Chosen,
    string? FindParam, string? Find, string? Notice, FormErrors? Errors)
{
    public string Article => Thing[0] is 'a' or 'e' or 'i' or 'o' or 'u' ? "an" : "a";
    public string Label => char.ToUpperInvariant(Thing[0]) + Thing[1..];
}
