using Carter;
using Coravel;
using Gatehouse.Access;
using Gatehouse.Accounts;
using Gatehouse.Kernel;
using Gatehouse.Payments;
using Gatehouse.Reports;
using Gatehouse.Vouchers;
using Gatehouse.Webhooks;
using Scalar.AspNetCore;

// Socket completions run on the socket event thread instead of hopping to the thread pool: on 2 cores this took the
// access check's p99 at 32 connections from about 18 ms to under 10 (README, "Inline socket completions"). Read once,
// when the first socket is made, so it is set before anything else; DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0 turns it off.
// Code after an awaited query may then run on that thread: it must not wait on synchronous I/O (Database.LeaveEventThread).
if (Environment.GetEnvironmentVariable(Database.InlineCompletionsVariable) is null)
    Environment.SetEnvironmentVariable(Database.InlineCompletionsVariable, "1");

// The host only composes: every module, route table and scheduled job is listed here.
var builder = WebApplication.CreateBuilder(args);

builder.AddKernel();
builder.AddAccounts();
builder.AddAccess();
builder.AddVouchers();
builder.AddPayments();
builder.AddWebhooks();
builder.AddReports();

builder.Services.AddCarter(configurator: c => c
    .WithModule<AccountsRoutes>()
    .WithModule<AccessRoutes>()
    .WithModule<VouchersRoutes>()
    .WithModule<PaymentsRoutes>()
    .WithModule<WebhooksRoutes>()
    .WithModule<ReportsRoutes>());

builder.Services.AddRazorPages(o =>
{
    o.Conventions.AuthorizeFolder("/Admin", Auth.Admin);
    o.Conventions.AllowAnonymousToPage("/Admin/Login");
});
builder.Services.AddApiDocument();
builder.Services.AddScheduler();

var app = builder.Build();

Migrations.Run(Database.ConnectionString(app.Configuration), typeof(Program).Assembly, app.Logger);

app.UseTrustedProxies();
app.UseApiErrors();
app.UseRouting();
// wwwroot as built (MapStaticAssets serves empty gzip variants outside Development). After routing, so a request
// that matched an endpoint (every API call) skips the file lookup.
app.UseStaticFiles();
app.UseRateLimiter();
app.UseAuthentication();
app.UseAuthorization();

app.MapCarter();
app.MapRazorPages();
app.MapOpenApi();
app.MapScalarApiReference(o => o.WithTitle("Gatehouse API"));
app.MapGet("/health", Health.Check).ExcludeFromDescription();

app.Services.UseScheduler(jobs =>
{
    jobs.Schedule<PruneSignIns>().Hourly();
    jobs.Schedule<PruneIdempotencyKeys>().Hourly();
    jobs.Schedule<PruneCodeGuesses>().Hourly();
    // Picks up bulk jobs left by a worker that died or uploaded while every worker was busy; an upload starts one at once.
    jobs.Schedule<RunBulkJobs>().EveryFiveSeconds().PreventOverlapping(nameof(RunBulkJobs));
    // The same for code batches: a request starts generating at once, this catches what a dead worker left.
    jobs.Schedule<RunCodeBatches>().EveryFiveSeconds().PreventOverlapping(nameof(RunCodeBatches));
    // Due subscriptions are claimed with FOR UPDATE SKIP LOCKED, so every instance runs this and each rebill is charged once.
    jobs.Schedule<RunRebills>().EveryFiveSeconds().PreventOverlapping(nameof(RunRebills));
    jobs.Schedule<SettlePendingPayments>().EveryMinute().PreventOverlapping(nameof(SettlePendingPayments));
    // The outbox's NOTIFY wakes the webhook dispatcher at once; this is the fallback, and what sends retries when due.
    jobs.Schedule<PumpWebhooks>().EverySecond();
    // Due schedules are claimed with FOR UPDATE SKIP LOCKED: every instance runs this, each due time gets one report.
    jobs.Schedule<RunSchedules>().EveryTenSeconds().PreventOverlapping(nameof(RunSchedules));
    // Picks up reports left by a worker that died; a request or a schedule starts generating at once.
    jobs.Schedule<RunReports>().EveryTenSeconds().PreventOverlapping(nameof(RunReports));
    jobs.Schedule<PruneReports>().Hourly().PreventOverlapping(nameof(PruneReports));
});

if (app.Configuration.GetValue<bool>("Gatehouse:SeedDemo"))
    // Not waited for: a callback may run on the socket event thread, which the seed's queries need.
    app.Lifetime.ApplicationStarted.Register(() => _ = DemoSeed.Print(app.Services, typeof(Program).Assembly, app.Urls.First()));

app.Run();

public partial class Program;
