using Microsoft.Extensions.Hosting;
using SecureDra.KubeletPlugin.Pipeline;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>Re-reads the confidential-computing state every MigModeCheckInterval after start-up, so GPUs return once the driver reports them ready.</summary>
public sealed class ConfidentialComputeLoop(ConfidentialComputeMonitor monitor, PipelineStartup startup, PipelineContext context, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await startup.WaitUntilReadyAsync(stoppingToken).ConfigureAwait(false);
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(context.Options.MigModeCheckInterval, time, stoppingToken).ConfigureAwait(false);
                await monitor.RefreshAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Start-up failed: nothing is published, nothing to re-check.
        }
    }
}
