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
    public static IServiceCollection AddSharedDataProtection(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("gatehouse");
        services.AddOptions<KeyManagementOptions>().Configure<NpgsqlDataSource>((o, db) => o.XmlRepository = new Repository(db));
        return services;
    }

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
