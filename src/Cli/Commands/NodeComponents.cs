using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using SecureDra.Api;
using SecureDra.Api.Validation;
using SecureDra.Kube;
using SecureDra.Kube.Client;
using SecureDra.KubeletPlugin.Health;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Nvml;
using SecureDra.Nvml.Backends;

namespace SecureDra.Cli.Commands;

/// <summary>
/// Everything the node daemon needs besides its sockets: the GPU layer, the Kubernetes client,
/// the strict config validator, the claim pipeline and device health. Shared by
/// <c>kubelet-plugin</c> and <c>demo</c> so the demo runs exactly the production wiring.
/// </summary>
internal sealed record NodeComponents(
    GpuBackendOptions Gpu,
    ClaimPipelineOptions Pipeline,
    HealthOptions Health,
    GpuConfigLimits ConfigLimits)
{
    /// <summary>Parses the node flags; throws ArgumentException or FormatException with a one-line message naming the flag.</summary>
    public static NodeComponents Bind(GpuBackendOptions gpu, string withdrawalMode, string fatalXids, bool allowClassResetOverride, string maxConfigBytes, string? scrubRetryInitial = null, string? unprepareBudget = null, string? kubeRequestTimeout = null)
    {
        var mode = withdrawalMode switch
        {
            "remove-from-slice" => WithdrawalMode.RemoveFromSlice,
            "taint-noschedule" => WithdrawalMode.TaintNoSchedule,
            "taint-noexecute" => WithdrawalMode.TaintNoExecute,
            _ => throw new ArgumentException($"--withdrawal-mode: must be remove-from-slice, taint-noschedule or taint-noexecute, got \"{withdrawalMode}\""),
        };
        if (!int.TryParse(maxConfigBytes, NumberStyles.None, CultureInfo.InvariantCulture, out var maxBytes) || maxBytes < 64 || maxBytes > DriverConstants.OpaqueParametersMaxBytes)
        {
            throw new ArgumentException($"--max-config-bytes: must be an integer from 64 to {DriverConstants.OpaqueParametersMaxBytes} (the API server's own limit), got \"{maxConfigBytes}\"");
        }

        var pipeline = new ClaimPipelineOptions { WithdrawalMode = mode };
        if (!string.IsNullOrEmpty(scrubRetryInitial))
        {
            pipeline = pipeline with { ScrubRetryInitial = ParseDuration("--scrub-retry-initial", scrubRetryInitial, TimeSpan.FromHours(1)) };
        }

        if (!string.IsNullOrEmpty(unprepareBudget))
        {
            pipeline = pipeline with { UnprepareBudget = ParseDuration("--unprepare-budget", unprepareBudget, TimeSpan.FromSeconds(40)) };
        }

        return new NodeComponents(
            gpu,
            pipeline,
            new HealthOptions { FatalXids = FatalXidCatalog.Parse(fatalXids) },
            new GpuConfigLimits { MaxBytes = maxBytes, AllowClassResetPolicyOverride = allowClassResetOverride })
        {
            KubeClient = string.IsNullOrEmpty(kubeRequestTimeout)
                ? null
                : new KubeApiClientOptions { RequestTimeout = ParseDuration("--kube-request-timeout", kubeRequestTimeout, TimeSpan.FromMinutes(5)) },
        };
    }

    /// <summary>"200ms" or "5s", from 1 ms to <paramref name="max"/>; hidden test flags only.</summary>
    private static TimeSpan ParseDuration(string flag, string text, TimeSpan max)
    {
        var (digits, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 1L) : text.EndsWith('s') ? (text[..^1], 1000L) : (text, 0L);
        if (unit == 0 || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1 || value > (long)max.TotalMilliseconds / unit)
        {
            throw new ArgumentException($"{flag}: must be a duration from 1ms to {max.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s such as 200ms or 5s, got \"{text}\"");
        }

        return TimeSpan.FromMilliseconds(value * unit);
    }

    /// <summary>Kubernetes client tunables; null = the client's defaults.</summary>
    public KubeApiClientOptions? KubeClient { get; init; }

    public void Register(IServiceCollection services, KubeletPluginOptions plugin)
    {
        services.AddGpuLayer(Gpu);
        services.AddKubeApiClient(plugin.Kubeconfig, KubeClient);
        services.AddSingleton<ResourceApiReadiness>();
        services.AddHostedService(sp => sp.GetRequiredService<ResourceApiReadiness>());
        services.AddSingleton<IPluginReadinessCheck>(sp => sp.GetRequiredService<ResourceApiReadiness>());
        services.AddSingleton<IGpuConfigValidator>(new GpuConfigValidator(ConfigLimits));
        services.AddClaimPipeline(Pipeline);
        services.AddDeviceHealth(Health);
    }
}
