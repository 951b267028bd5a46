using Gatehouse.Kernel;
using Microsoft.Extensions.Primitives;

namespace Gatehouse.Tests.Kernel;

/// <summary>Bracket keys of form posts become the same JSON tree a JSON client would send.</summary>
public sealed class RequestBodyTests
{
    private static string Tree(params (string Key, string Value)[] pairs) =>
        RequestBody.FromPairs(pairs.GroupBy(p => p.Key)
            .Select(g => new KeyValuePair<string, StringValues>(g.Key, new StringValues(g.Select(p => p.Value).ToArray()))))
            .ToJsonString();

    [Fact]
    public void Plain_keys_are_fields() =>
        Assert.Equal("""{"name":"Foo","discount":"50"}""", Tree(("name", "Foo"), ("discount", "50")));

    [Fact]
    public void Bracket_keys_are_objects() =>
        Assert.Equal("""{"metadata":{"country":"MK","city":"Skopje"}}""",
            Tree(("metadata[country]", "MK"), ("metadata[city]", "Skopje")));

    [Fact]
    public void Numbered_brackets_are_lists_in_index_order() =>
        Assert.Equal("""{"rules":[{"type":"assets","value":"5"},{"type":"emails","value":"a@b.co"}]}""",
            Tree(("rules[1][type]", "emails"), ("rules[0][type]", "assets"), ("rules[0][value]", "5"), ("rules[1][value]", "a@b.co")));

    [Fact]
    public void Empty_brackets_append() =>
        Assert.Equal("""{"ids":["1","2"]}""", Tree(("ids[]", "1"), ("ids[]", "2")));

    [Fact]
    public void Blank_values_count_as_not_given() =>
        Assert.Equal("""{"usage_limit":null}""", Tree(("usage_limit", "")));

    [Fact]
    public void A_repeated_plain_key_keeps_the_last_value() =>
        Assert.Equal("""{"prefix":"BA17"}""", Tree(("prefix", "AB17"), ("prefix", "BA17")));

    [Theory]
    [InlineData("[x]")]
    [InlineData("a[b")]
    [InlineData("a[b]c")]
    [InlineData("a[1][2][3][4][5][6][7][8]")]
    public void Malformed_keys_are_a_400(string key)
    {
        var error = Assert.Throws<ApiException>(() => Tree((key, "v")));
        Assert.Equal(400, error.Status);
    }

    [Fact]
    public void A_key_used_as_both_value_and_object_is_a_400()
    {
        var error = Assert.Throws<ApiException>(() => Tree(("a", "1"), ("a[b]", "2")));
        Assert.Equal(400, error.Status);
    }

    [Theory]
    [InlineData("2017-01-10", "2017-01-10T00:00:00.0000000+00:00")]
    [InlineData("2018-08-23T00:00:00.000Z", "2018-08-23T00:00:00.0000000+00:00")]
    [InlineData("2018-08-23T02:00:00+02:00", "2018-08-23T00:00:00.0000000+00:00")]
    public void Dates_are_read_as_utc(string text, string expected)
    {
        Assert.True(Json.TryParseUtc(text, out var value));
        Assert.Equal(expected, value.ToString("o"));
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("0001-01-01")]
    [InlineData("")]
    public void Nonsense_dates_are_refused(string text) => Assert.False(Json.TryParseUtc(text, out _));
}
