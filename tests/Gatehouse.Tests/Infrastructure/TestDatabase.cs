using Dapper;
using Gatehouse.Kernel;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// A fresh database per test class: migrated once into a template, then cloned with CREATE DATABASE … TEMPLATE,
/// which takes milliseconds. The server is the one GATEHOUSE_DB points at (./gatehouse test sets it).
/// </summary>
public static class TestDatabase
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static bool _templateReady;
    private static int _counter;
    // Names carry the test process id, so concurrent test runs on one server never collide,
    // and what a killed run left behind is recognised and dropped by the next one.
    // A run token on top of the pid: a pid can be reused by a later run while an old run's databases linger.
    private static readonly string Prefix = $"ght_{Environment.ProcessId}_{Guid.NewGuid().ToString("N")[..6]}_";

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("GATEHOUSE_DB") is { Length: > 0 } cs ? cs
        : throw new InvalidOperationException("GATEHOUSE_DB is not set: run the tests with ./gatehouse test");

    private static string TemplateName => Prefix + "template";

    /// <summary>A database name of this run, for tests that create a database themselves.</summary>
    public static string NameFor(string purpose) => $"{Prefix}{purpose}_{Guid.NewGuid():N}"[..Math.Min(63, Prefix.Length + purpose.Length + 33)];

    public static string For(string database) =>
        new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = database, Pooling = true }.ConnectionString;

    public static async Task<string> CreateAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (!_templateReady)
            {
                await DropLeftovers();
                // Synchronous I/O: off the socket event thread the awaits above may have left this on.
                await Task.Run(() => Migrations.Run(For(TemplateName), typeof(Program).Assembly, NullLogger.Instance));
                NpgsqlConnection.ClearAllPools();
                _templateReady = true;
            }
            var name = $"{Prefix}{Interlocked.Increment(ref _counter)}";
            await using (var admin = await OpenAdmin())
                await admin.ExecuteAsync($"create database {name} template {TemplateName}");
            return For(name);
        }
        finally
        {
            Gate.Release();
        }
    }

    public static async Task DropAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        NpgsqlConnection.ClearAllPools();
        await using var admin = await OpenAdmin();
        await admin.ExecuteAsync($"drop database if exists {name} with (force)");
    }

    private static async Task DropLeftovers()
    {
        await using var admin = await OpenAdmin();
        var names = await admin.QueryAsync<string>("select datname from pg_database where datname like 'ght\\_%'");
        foreach (var name in names)
        {
            var pid = int.TryParse(name.Split('_')[1], out var p) ? p : 0;
            var ours = name.StartsWith(Prefix, StringComparison.Ordinal);
            if (!ours && (pid == Environment.ProcessId || !ProcessIsAlive(pid)))
                await admin.ExecuteAsync($"drop database if exists {name} with (force)");
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DropAllOfThisRun();
    }

    private static bool ProcessIsAlive(int pid)
    {
        try { return !System.Diagnostics.Process.GetProcessById(pid).HasExited; }
        catch (ArgumentException) { return false; }
    }

    private static void DropAllOfThisRun()
    {
        try
        {
            NpgsqlConnection.ClearAllPools();
            using var admin = new NpgsqlConnection(For("postgres"));
            admin.Open();
            foreach (var name in admin.Query<string>("select datname from pg_database where datname like @prefix", new { prefix = Prefix.Replace("_", "\\_") + "%" }))
                admin.Execute($"drop database if exists {name} with (force)");
        }
        catch (NpgsqlException)
        {
            // The next run drops what is left.
        }
    }

    private static async Task<NpgsqlConnection> OpenAdmin()
    {
        var connection = new NpgsqlConnection(For("postgres"));
        await connection.OpenAsync();
        return connection;
    }
}

public static class DataSourceQueries
{
    /// <summary>One value from a query (a count, mostly), on a connection of its own. Not ExecuteScalar: Npgsql reads a
    /// long scalar synchronously, which can wait forever on the socket event thread (Database.LeaveEventThread).</summary>
    public static async Task<T> Scalar<T>(this NpgsqlDataSource db, string sql, object? args = null)
    {
        await using var connection = await db.OpenConnectionAsync();
        return (await connection.QueryFirstOrDefaultAsync<T>(sql, args))!;
    }
}
