using System.Net;
using System.Text.Json;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>The API over real HTTP, as a merchant's back end calls it: how browser tests put their data in.</summary>
public sealed class Api(string baseUrl) : IDisposable
{
    public HttpClient Http { get; } = new() { BaseAddress = new Uri(baseUrl) };

    /// <summary>Sends a form (or nothing) and asserts the status, saying what came back when it differs.</summary>
    public async Task<JsonElement> Send(HttpMethod method, string path, string? token, Dictionary<string, string>? form,
        HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new("Bearer", token);
        if (form is not null) request.Content = new FormUrlEncodedContent(form);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<string> MerchantToken(TestMerchant merchant) =>
        (await Send(HttpMethod.Post, "/accounts/authenticate", null, new()
        {
            ["grant_type"] = "client_credentials", ["client_id"] = merchant.Uuid.ToString(), ["client_secret"] = merchant.Secret,
        }, HttpStatusCode.OK)).GetProperty("access_token").GetString()!;

    public void Dispose() => Http.Dispose();
}
