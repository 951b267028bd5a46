using System.Reflection;
using Dapper;
using DbUp;
using DbUp.Engine;
using DbUp.Engine.Output;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gatehouse.Kernel;

/// <summary>
/// Applies the flat, numbered scripts of db/migrations (embedded as "migrations/NNNN_name.sql"),
/// one transaction each, journaled in kernel.schema_versions, under an advisory lock so that
/// several instances can start at once.
/// </summary>
public static class Migrations
{
    private const long AdvisoryLockKey = 0x6761_7465_686f; // "gateho"

    public static void Run(string connectionString, Assembly scriptsAssembly, ILogger logger)
    {
        EnsureDatabase(connectionString, logger);

        using var lockConnection = new NpgsqlConnection(connectionString);
        lockConnection.Open();
        lockConnection.Execute("select pg_advisory_lock(@AdvisoryLockKey)", new { AdvisoryLockKey });
        try
        {
            lockConnection.Execute("create schema if not exists kernel");
            var upgrader = DeployChanges.To
                .PostgresqlDatabase(connectionString)
                .WithScripts(Scripts(scriptsAssembly, "migrations/"))
                .JournalToPostgresqlTable("kernel", "schema_versions")
                .WithTransactionPerScript()
                .WithVariablesDisabled()
                .LogTo(new DbUpLog(logger))
                .Build();
            var result = upgrader.PerformUpgrade();
            if (!result.Successful)
                throw new InvalidOperationException($"Migration {result.ErrorScript?.Name} failed", result.Error);
        }
        finally
        {
            lockConnection.Execute("select pg_advisory_unlock(@AdvisoryLockKey)", new { AdvisoryLockKey });
        }
    }

    /// <summary>Embedded scripts under a prefix, in name order, named by their file name.</summary>
    public static IEnumerable<SqlScript> Scripts(Assembly assembly, string prefix) =>
        assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .OrderBy(n => n, StringComparer.Ordinal)
            .Select(n =>
            {
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return new SqlScript(n[prefix.Length..], reader.ReadToEnd());
            })
            .ToList();

    private static void EnsureDatabase(string connectionString, ILogger logger)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var database = builder.Database ?? throw new InvalidOperationException("The connection string names no database");
        builder.Database = "postgres";
        using var admin = new NpgsqlConnection(builder.ConnectionString);
        admin.Open();
        if (admin.ExecuteScalar<int?>("select 1 from pg_database where datname = @database", new { database }) == 1) return;
        try
        {
            admin.Execute($"create database \"{database.Replace("\"", "\"\"")}\"");
            logger.LogInformation("Created database {Database}", database);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            // Another instance created it first.
        }
    }

    private sealed class DbUpLog(ILogger logger) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) => logger.LogTrace(format, args);
        public void LogDebug(string format, params object[] args) => logger.LogDebug(format, args);
        public void LogInformation(string format, params object[] args) => logger.LogInformation(format, args);
        public void LogWarning(string format, params object[] args) => logger.LogWarning(format, args);
        public void LogError(string format, params object[] args) => logger.LogError(format, args);
        public void LogError(Exception ex, string format, params object[] args) => logger.LogError(ex, format, args);
    }
}
