using Microsoft.Extensions.Hosting;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// The server is embedded (CLI command, demo, tests): it must not take over the process's SIGTERM/SIGINT handling
/// the way the console lifetime does. Whoever owns the process stops it through <see cref="LocalApiServer.StopAsync"/>.
/// </summary>
internal sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
