using Gatehouse.Kernel;

namespace Gatehouse.Tests.Kernel;

public sealed class PagingTests
{
    [Fact]
    public void Defaults_to_the_first_page_of_fifteen()
    {
        var page = PageRequest.From(null, null);
        Assert.Equal((1, 15, 0), (page.Page, page.Size, page.Offset));
    }

    [Fact]
    public void Offset_follows_page_and_size() => Assert.Equal(40, PageRequest.From(3, 20).Offset);

    [Fact]
    public void Size_is_capped() => Assert.Equal(100, PageRequest.From(1, 5000).Size);

    [Theory]
    [InlineData(0, 10)]
    [InlineData(-1, 10)]
    [InlineData(1, 0)]
    [InlineData(2_000_000, 10)]
    public void Out_of_range_values_are_a_400(int page, int size)
    {
        var error = Assert.Throws<ApiException>(() => PageRequest.From(page, size));
        Assert.Equal(400, error.Status);
        Assert.NotNull(error.Errors);
    }

    [Fact]
    public void Both_list_shapes_carry_their_fields()
    {
        var request = PageRequest.From(2, 15);
        var v1 = OffsetPage<int>.Of([1, 2], 17, request);
        Assert.Equal((17L, 2, 15, 15), (v1.Total, v1.Page, v1.Offset, v1.Limit));
        var gifts = SizedPage<int>.Of([1, 2], 17, request);
        Assert.Equal((17L, 2, 15), (gifts.Total, gifts.Page, gifts.Size));
    }
}
