using System.Data;
using System.Reflection;
using System.Runtime.CompilerServices;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Gatehouse.Kernel;

public static class Database
{
    /// <summary>The connection string: GATEHOUSE_DB, or ConnectionStrings:Gatehouse.</summary>
    public static string ConnectionString(Microsoft.Extensions.Configuration.IConfiguration configuration) =>
        configuration["GATEHOUSE_DB"] is { Length: > 0 } fromEnv ? fromEnv
        : configuration.GetConnectionString("Gatehouse")
          ?? throw new InvalidOperationException("Set GATEHOUSE_DB (or ConnectionStrings:Gatehouse) to a PostgreSQL connection string.");

    /// <summary>The key of the multiplexing data source, for hot single-statement reads: [FromKeyedServices(Database.Multiplexed)].</summary>
    public const string Multiplexed = "multiplexed";

    public static IServiceCollection AddDatabase(this IServiceCollection services, string connectionString)
    {
        ConfigureDapper();
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        // Prepare the statements a process runs again and again (the access check above all), so PostgreSQL
        // parses and plans them once per connection, unless the connection string says otherwise.
        if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase))
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 50;
            builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        }
        var dataSource = builder.Build();
        services.AddSingleton(dataSource);
        // One-statement reads on the hot path share a few connections instead of holding one each: Npgsql
        // multiplexing pipelines concurrent commands, which served the access check about 2x faster in bench/.
        // It cannot run synchronous calls or LISTEN, so everything else keeps the plain source above.
        var multiplexed = new NpgsqlDataSourceBuilder(builder.ConnectionString);
        multiplexed.ConnectionStringBuilder.Multiplexing = true;
        // A few connections per core keep PostgreSQL's backends busy; more only add context switches. On 2 cores
        // bench/ measured 4 multiplexed connections at 10-12k checks/s, 16 at 7k/s, and a plain pool of 4 at 5.4k/s.
        multiplexed.ConnectionStringBuilder.MaxPoolSize = Math.Max(4, 2 * Environment.ProcessorCount);
        services.AddKeyedSingleton(Multiplexed, multiplexed.Build());
        return services;
    }

    /// <summary>The runtime's switch for running socket completions on the socket event thread (set by Program.cs).</summary>
    public const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Moves the caller onto a thread-pool thread before synchronous database I/O (a COPY's buffered writes). With inline
    /// socket completions, code after an awaited query may run on the socket event thread, and a synchronous read or
    /// write there that has to wait for the socket would wait for that same thread forever.
    /// </summary>
    public static YieldAwaitable LeaveEventThread() => Task.Yield();

    private static int _configured;

    /// <summary>snake_case columns map to PascalCase members; times are UTC DateTimeOffsets.</summary>
    public static void ConfigureDapper()
    {
        if (Interlocked.Exchange(ref _configured, 1) == 1) return;
        // Dapper's async queries ask for sequential access, where Npgsql reads a column that is not buffered yet with
        // synchronous I/O: on the socket event thread (see LeaveEventThread) that can wait forever. Without it, ReadAsync
        // buffers each whole row asynchronously. Dapper has no public setting for this, hence the reflection; a Dapper
        // that renames it fails here, at startup.
        var allowed = typeof(SqlMapper.Settings).GetProperty("AllowedCommandBehaviors", BindingFlags.NonPublic | BindingFlags.Static)
                      ?? throw new InvalidOperationException("Dapper's SqlMapper.Settings.AllowedCommandBehaviors is gone");
        allowed.SetValue(null, (CommandBehavior)allowed.GetValue(null)! & ~CommandBehavior.SequentialAccess);
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        SqlMapper.RemoveTypeMap(typeof(DateTimeOffset));
        SqlMapper.RemoveTypeMap(typeof(DateTimeOffset?));
        SqlMapper.AddTypeHandler(new UtcDateTimeOffsetHandler());
    }

    private sealed class UtcDateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value)
        {
            parameter.Value = value.UtcDateTime;
            if (parameter is NpgsqlParameter p) p.NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz;
        }

        public override DateTimeOffset Parse(object value) => value switch
        {
            DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
            DateTimeOffset dto => dto.ToUniversalTime(),
            _ => throw new DataException($"Cannot read {value.GetType()} as a time"),
        };
    }
}
