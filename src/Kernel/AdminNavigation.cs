using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Kernel;

/// <summary>One link of the admin's top navigation; a module adds its own when it is composed in.</summary>
public sealed record AdminLink(string Title, string Href, int Order);

public static class AdminNavigation
{
    public static IServiceCollection AddAdminLink(this IServiceCollection services, string title, string href, int order) =>
        services.AddSingleton(new AdminLink(title, href, order));
}
