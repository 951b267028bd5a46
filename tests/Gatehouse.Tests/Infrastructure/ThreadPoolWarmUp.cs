using System.Runtime.CompilerServices;

namespace Gatehouse.Tests.Infrastructure;

/// <summary>
/// Many test classes run at once in this one process, each with its own app hosts, whose start-up migrates
/// synchronously (DbUp). On 2 cores the thread pool starts with 2 threads and adds about one a second, so a burst of
/// blocked start-ups could leave another class's browser waiting past its 30 s timeout for a page. Start with more.
/// </summary>
internal static class ThreadPoolWarmUp
{
    [ModuleInitializer]
    internal static void Raise()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 64));
    }
}
