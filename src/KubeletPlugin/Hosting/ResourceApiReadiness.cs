using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Kube.Resources;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Hosting;

/// <summary>
/// Negotiates the resource.k8s.io version at start, so a cluster without DRA is one clear start-up
/// error instead of a failure at the first slice write, and reports the version in use on
/// <c>/readyz</c> and as the metric <c>securedra_resource_api_version_info{version}</c>.
/// </summary>
public sealed partial class ResourceApiReadiness(ResourceApi api, MetricsRegistry metrics, ILogger<ResourceApiReadiness> logger)
    : IHostedService, IPluginReadinessCheck
{
    private readonly Gauge _info = metrics.Gauge("securedra_resource_api_version_info", "The resource.k8s.io version in use (1 = in use).", "version");
    private string? _logged;

    public string Name => "resource-api";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        api.VersionChanged += OnVersionChanged;
        try
        {
            await api.NegotiateAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Kube.Client.KubeApiException ex) when (ex.IsTransient)
        {
            // The API server may come up after us; the first call that needs it negotiates again.
            LogDeferred(logger, ex.Message);
            return;
        }

        Publish(api.WireVersion ?? "");
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        api.VersionChanged -= OnVersionChanged;
        return Task.CompletedTask;
    }

    public PluginReadiness Check() =>
        api.IsNegotiated
            ? new PluginReadiness(true, $"resource.k8s.io/{api.WireVersion}")
            : new PluginReadiness(false, "resource.k8s.io version not negotiated yet");

    private void OnVersionChanged(object? sender, ResourceApiVersion version) => Publish(api.WireVersion ?? "");

    private void Publish(string wireVersion)
    {
        foreach (var v in new[] { "v1", "v1beta2", "v1beta1" })
        {
            _info.Set(v == wireVersion ? 1 : 0, v);
        }

        // Negotiation raises VersionChanged and StartAsync publishes after it: one start-up line, not two. A later
        // change of version is still logged.
        if (Interlocked.Exchange(ref _logged, wireVersion) != wireVersion)
        {
            LogVersion(logger, wireVersion);
        }
    }
}
