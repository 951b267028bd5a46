using System.Xml.Linq;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Gatehouse.Kernel;

/// <summary>
/// Keeps Data Protection keys in PostgreSQL rather than on local disk, so an admin signed in on one
/// instance stays signed in on any other behind the same load balancer.
/// </summary>
public static class DataProtectionKeys
{
    public static IServiceCollection AddSharedDataProtection(this IServiceCollection services, string connectionString)
    {
        services.AddDataProtection().SetApplicationName("gatehouse");
        var repository = new Repository(NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Multiplexing = false }));
        services.AddOptions<KeyManagementOptions>().Configure(o => o.XmlRepository = repository);
        return services;
    }

    /// <summary>Data Protection asks for its keys synchronously, from whatever thread needs them, the socket event thread
    /// included (Program.cs). A connection of its own, opened synchronously and never pooled, has a socket that was never
    /// used asynchronously, so its reads block in the kernel instead of waiting for that thread.</summary>
    private sealed class Repository(NpgsqlDataSource db) : IXmlRepository
    {
        public IReadOnlyCollection<XElement> GetAllElements()
        {
            using var connection = db.OpenConnection();
            return connection.Query<string>("select xml from kernel.data_protection_keys order by id")
                .Select(XElement.Parse).ToList();
        }

        public void StoreElement(XElement element, string friendlyName)
        {
            using var connection = db.OpenConnection();
            connection.Execute("insert into kernel.data_protection_keys (friendly_name, xml) values (@friendlyName, @xml)",
                new { friendlyName, xml = element.ToString(SaveOptions.DisableFormatting) });
        }
    }
}
