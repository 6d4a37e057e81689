using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.Hosting;

/// <summary>
/// Ties the socket files to the host's life. Startup filters run inside the web host's start,
/// after the pipeline is built and before Kestrel binds: the place to create the plugin dir and clear
/// stale files. Once started the sockets get 0600; on stopping the registration socket goes first
/// (the kubelet deregisters at once) and the DRA socket after in-flight calls have drained.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class SocketLifecycle(
    PluginSocketLayout layout,
    UnixSocketFiles files,
    IHostApplicationLifetime lifetime,
    ILogger<SocketLifecycle> logger) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next)
    {
        files.EnsureDirectory(layout.PluginDataDirectory, enforceMode: true);
        files.EnsureDirectory(Path.GetDirectoryName(layout.RegistrationSocketPath)!, enforceMode: false);
        files.RemoveStale(layout.DraSocketPath);
        files.RemoveStale(layout.RegistrationSocketPath);

        lifetime.ApplicationStarted.Register(() =>
        {
            try
            {
                files.ClaimBoundSocket(layout.DraSocketPath);
                files.ClaimBoundSocket(layout.RegistrationSocketPath);
                LogListening(layout.RegistrationSocketPath, layout.DraSocketPath);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Serving with looser socket modes is not acceptable: stop, the restart tries again.
                LogClaimFailed(ex);
                lifetime.StopApplication();
            }
        });
        lifetime.ApplicationStopping.Register(() => files.RemoveOwned(layout.RegistrationSocketPath));
        lifetime.ApplicationStopped.Register(() =>
        {
            files.RemoveOwned(layout.RegistrationSocketPath);
            files.RemoveOwned(layout.DraSocketPath);
        });
        return next;
    }
}
