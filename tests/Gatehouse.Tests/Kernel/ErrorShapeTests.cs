using System.Net;
using System.Text;
using System.Text.Json;
using Gatehouse.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Tests.Kernel;

/// <summary>Adds a route that fails unexpectedly, to see what an unhandled exception looks like from outside.</summary>
public sealed class ThrowingAppFixture : AppFixture
{
    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddSingleton<IStartupFilter>(new ThrowingRoute());

    private sealed class ThrowingRoute : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Use((HttpContext context, RequestDelegate rest) => context.Request.Path == "/test/throw"
                ? throw new InvalidOperationException("connection string Password=hunter2 leaked?")
                : rest(context));
        };
    }
}

/// <summary>Every failure answers {code, message, errors?} as JSON, whatever went wrong.</summary>
public sealed class ErrorShapeTests(ThrowingAppFixture app) : IClassFixture<ThrowingAppFixture>
{
    private async Task<(HttpStatusCode Status, JsonElement Body, string Text)> Send(HttpRequestMessage request)
    {
        using var client = app.Host.Server.CreateClient();
        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal((int)response.StatusCode, body.GetProperty("code").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("message").GetString()));
        return (response.StatusCode, body, text);
    }

    private static HttpRequestMessage Post(string url, string body, string contentType) =>
        new(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, contentType) };

    [Fact]
    public async Task Unknown_routes_are_404()
    {
        var (status, _, text) = await Send(new HttpRequestMessage(HttpMethod.Get, "/no/such/route"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        text.MatchSnapshot();
    }

    [Fact]
    public async Task Wrong_methods_are_405()
    {
        var (status, _, text) = await Send(new HttpRequestMessage(HttpMethod.Delete, "/accounts"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, status);
        text.MatchSnapshot();
    }

    [Fact]
    public async Task Unsupported_media_types_are_415()
    {
        var (status, _, text) = await Send(Post("/accounts", "<xml/>", "application/xml"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        text.MatchSnapshot();
    }

    [Theory]
    [InlineData("{\"full_name\": ", "truncated")]
    [InlineData("[1, 2, 3]", "array")]
    [InlineData("\"text\"", "string")]
    [InlineData("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":{\"j\":{\"k\":{\"l\":{\"m\":{\"n\":{\"o\":{\"p\":{\"q\":{\"r\":{\"s\":{\"t\":{\"u\":{\"v\":{\"w\":{\"x\":{\"y\":{\"z\":{\"0\":{\"1\":{\"2\":{\"3\":{\"4\":{\"5\":{\"6\":1}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}", "too_deep")]
    public async Task Malformed_json_is_400(string json, string name)
    {
        var (status, _, text) = await Send(Post("/accounts", json, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        text.MatchSnapshot(name);
    }

    [Fact]
    public async Task A_json_body_over_one_megabyte_is_413()
    {
        var big = "{\"full_name\":\"" + new string('x', 2 * 1024 * 1024) + "\"}";
        var (status, _, _) = await Send(Post("/accounts", big, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
    }

    [Fact]
    public async Task Malformed_form_keys_are_400()
    {
        var (status, body, _) = await Send(Post("/accounts", "metadata[a=1&[x]=2", "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(body.TryGetProperty("errors", out _));
    }

    [Fact]
    public async Task Binary_garbage_as_a_form_is_400_or_handled()
    {
        var bytes = new byte[4096];
        new Random(7).NextBytes(bytes);
        var request = new HttpRequestMessage(HttpMethod.Post, "/accounts") { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new("application/x-www-form-urlencoded");
        var (status, _, _) = await Send(request);
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task Unhandled_exceptions_are_500_without_details()
    {
        var (status, _, text) = await Send(new HttpRequestMessage(HttpMethod.Get, "/test/throw"));
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.DoesNotContain("hunter2", text);
        Assert.DoesNotContain("InvalidOperationException", text);
        text.MatchSnapshot();
    }

    [Fact]
    public async Task A_missing_body_is_treated_as_empty_and_validated()
    {
        var (status, body, _) = await Send(new HttpRequestMessage(HttpMethod.Post, "/accounts"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("is required", body.GetProperty("errors").GetProperty("client_id").GetString());
    }
}
