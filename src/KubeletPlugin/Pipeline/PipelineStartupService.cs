using Microsoft.Extensions.Hosting;

namespace SecureDra.KubeletPlugin.Pipeline;

/// <summary>
/// Runs <see cref="PipelineStartup"/> during host start, so a corrupt checkpoint or a missing
/// GPU driver stops the plugin before it registers with the kubelet (fail closed).
/// </summary>
public sealed class PipelineStartupService(PipelineStartup startup) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => startup.EnsureStartedAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
