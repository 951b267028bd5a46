using Dapper;
using Gatehouse.Kernel;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Gatehouse.Tests.Kernel;

public sealed class MigrationTests
{
    [Fact]
    public async Task Two_instances_starting_together_apply_each_script_once()
    {
        var database = TestDatabase.NameFor("migrate");
        var connectionString = TestDatabase.For(database);
        try
        {
            var scripts = Migrations.Scripts(typeof(Program).Assembly, "migrations/").Select(s => s.Name).ToList();
            Assert.NotEmpty(scripts);

            await Task.WhenAll(
                Task.Run(() => Migrations.Run(connectionString, typeof(Program).Assembly, NullLogger.Instance)),
                Task.Run(() => Migrations.Run(connectionString, typeof(Program).Assembly, NullLogger.Instance)));
            Migrations.Run(connectionString, typeof(Program).Assembly, NullLogger.Instance); // and again later: nothing to do

            await using var connection = new NpgsqlConnection(connectionString);
            var journal = (await connection.QueryAsync<string>("select scriptname from kernel.schema_versions order by scriptname")).ToList();
            Assert.Equal(scripts, journal);
        }
        finally
        {
            await TestDatabase.DropAsync(connectionString);
        }
    }

    [Fact]
    public void Script_names_are_numbered_and_unique()
    {
        var names = Migrations.Scripts(typeof(Program).Assembly, "migrations/").Select(s => s.Name).ToList();
        Assert.All(names, n => Assert.Matches(@"^\d{4}_[a-z0-9_]+\.sql$", n));
        Assert.Equal(names.Count, names.Select(n => n[..4]).Distinct().Count());
    }
}
