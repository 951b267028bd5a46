using System.Collections.Concurrent;
using System.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Webhooks;

/// <summary>
/// A real HTTP receiver (Kestrel on a loopback port) that records every request and answers as a test tells it to:
/// a status per request number, optional headers (Retry-After) and a delay (a slow receiver). It also watches for
/// the same webhook-id being delivered twice at the same time.
/// </summary>
public sealed class Receiver : IAsyncDisposable
{
    /// <summary>A request as received, with its 1-based number and the status it was answered.</summary>
    public sealed record Request(string Path, IReadOnlyDictionary<string, string[]> Headers, byte[] Body, DateTimeOffset At, int Number, int Status)
    {
        public string Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var values) ? string.Join(",", values) : "";
        public string Text => System.Text.Encoding.UTF8.GetString(Body);

        /// <summary>The webhook-id header (Standard Webhooks) or the form's id (InPlayer).</summary>
        public string WebhookId => Header("webhook-id") is { Length: > 0 } id ? id : HttpUtility.ParseQueryString(Text)["id"] ?? "";

        public bool Succeeded => Status is >= 200 and < 300;
    }

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _inFlight = new();
    public ConcurrentQueue<Request> Requests { get; } = new();

    /// <summary>Webhook-ids that arrived while an earlier request with the same id was still being answered.</summary>
    public ConcurrentQueue<string> Overlaps { get; } = new();

    public string Url { get; }

    /// <summary>Decides each answer from the request's number (1-based); 200 unless set.</summary>
    public Func<int, int> Answer { get; set; } = _ => 200;

    /// <summary>Headers added to an answer (Retry-After, say), from the request's number and status.</summary>
    public Func<int, int, IReadOnlyDictionary<string, string>?> AnswerHeaders { get; set; } = (_, _) => null;

    /// <summary>How long the receiver takes over a request before answering.</summary>
    public Func<int, TimeSpan> Delay { get; set; } = _ => TimeSpan.Zero;

    /// <summary>Awaited before answering a request: a test holds a request open until it says so.</summary>
    public Func<Request, Task> Hold { get; set; } = _ => Task.CompletedTask;

    private int _count;

    private Receiver(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public static async Task<Receiver> Start()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        Receiver? receiver = null;
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var r = receiver!;
            var number = Interlocked.Increment(ref r._count);
            var status = r.Answer(number);
            var request = new Request(context.Request.Path, context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(),
                h => h.Value.Select(v => v ?? "").ToArray()), body.ToArray(), DateTimeOffset.UtcNow, number, status);
            var id = request.WebhookId;
            if (r._inFlight.AddOrUpdate(id, 1, (_, n) => n + 1) > 1) r.Overlaps.Enqueue(id);
            try
            {
                r.Requests.Enqueue(request);
                if (r.Delay(number) is { } delay && delay > TimeSpan.Zero) await Task.Delay(delay, CancellationToken.None);
                await r.Hold(request);
                context.Response.StatusCode = status;
                foreach (var (name, value) in r.AnswerHeaders(number, status) ?? new Dictionary<string, string>())
                    context.Response.Headers[name] = value;
                await context.Response.WriteAsync(status < 300 ? "ok" : "no thanks");
            }
            finally
            {
                r._inFlight.AddOrUpdate(id, 0, (_, n) => n - 1);
            }
        });
        await app.StartAsync();
        receiver = new Receiver(app, app.Urls.First());
        return receiver;
    }

    /// <summary>Waits until <paramref name="condition"/> holds on the requests received, or fails after <paramref name="seconds"/>.</summary>
    public async Task<IReadOnlyList<Request>> WaitFor(Func<IReadOnlyList<Request>, bool> condition, int seconds = 30)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var seen = Requests.ToList();
            if (condition(seen)) return seen;
            if (DateTime.UtcNow > until) throw new TimeoutException($"The receiver saw {seen.Count} requests, not what the test waited for");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until nothing new has arrived for <paramref name="quiet"/>: no delivery is on its way.</summary>
    public async Task Settle(TimeSpan quiet)
    {
        var count = -1;
        while (count != Requests.Count)
        {
            count = Requests.Count;
            await Task.Delay(quiet);
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
