using Microsoft.Extensions.DependencyInjection;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Confidential;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Nvidia;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Nvml.Scrubbing;
using SecureDra.Observability.Metrics;

namespace SecureDra.Nvml.Tests;

/// <summary>AddGpuLayer wires the MIG and CC backends of the chosen kind, the instance scrubber and the CC gauges.</summary>
public class MigRegistrationTests
{
    [Fact]
    public async Task AddGpuLayer_RegistersMigAndCcBackendsPerKind()
    {
        using var dir = new TempDir();
        var simulated = new GpuBackendOptions { Kind = GpuBackendKind.Simulated, Simulated = new SimulatedGpuOptions { DeviceCount = 1, VramDirectory = dir.Path } };
        await using (var provider = new ServiceCollection().AddGpuLayer(simulated).BuildServiceProvider())
        {
            Assert.IsType<SimulatedMigBackend>(provider.GetRequiredService<IMigBackend>());
            Assert.IsType<SimulatedConfidentialComputeBackend>(provider.GetRequiredService<IConfidentialComputeBackend>());
            Assert.IsType<MigInstanceScrubber>(provider.GetRequiredService<IMigInstanceScrubber>());
            Assert.NotNull(provider.GetRequiredService<ConfidentialComputeMetrics>());
        }

        await using (var provider = new ServiceCollection().AddGpuLayer(new GpuBackendOptions()).BuildServiceProvider())
        {
            Assert.IsType<NvidiaMigBackend>(provider.GetRequiredService<IMigBackend>());
            Assert.IsType<NvidiaConfidentialComputeBackend>(provider.GetRequiredService<IConfidentialComputeBackend>());
        }
    }

    [Fact]
    public void CcGauges_HaveClosedLabelsAndFollowTheState()
    {
        var registry = new MetricsRegistry();
        var metrics = new ConfidentialComputeMetrics(registry);
        metrics.Record(ConfidentialComputeState.Unsupported);
        var text = registry.Render();
        Assert.Contains("securedra_cc_supported 0", text, StringComparison.Ordinal);
        Assert.Contains("securedra_cc_environment{environment=\"unavailable\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("securedra_cc_multi_gpu_mode{mode=\"unknown\"} 1", text, StringComparison.Ordinal);

        metrics.Record(new ConfidentialComputeState(true, CcEnvironment.Production, true, true, CcMultiGpuMode.ProtectedPcie, false));
        text = registry.Render();
        Assert.Contains("securedra_cc_supported 1", text, StringComparison.Ordinal);
        Assert.Contains("securedra_cc_enabled 1", text, StringComparison.Ordinal);
        Assert.Contains("securedra_cc_devtools_mode 1", text, StringComparison.Ordinal);
        Assert.Contains("securedra_cc_gpus_ready 0", text, StringComparison.Ordinal);
        Assert.Contains("securedra_cc_environment{environment=\"production\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("securedra_cc_environment{environment=\"unavailable\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("securedra_cc_multi_gpu_mode{mode=\"protected_pcie\"} 1", text, StringComparison.Ordinal);
        Assert.Equal(3, registry.SeriesCount("securedra_cc_environment"));
        Assert.Equal(4, registry.SeriesCount("securedra_cc_multi_gpu_mode"));
    }

    [Fact]
    public void ScrubMetrics_RejectLabelsOutsideTheClosedSets()
    {
        var metrics = new ScrubMetrics(new MetricsRegistry());
        Assert.Throws<ArgumentOutOfRangeException>(() => metrics.Record("simulated", "exploded", ScrubTrigger.Cli, ScrubVerdict.Verified, 0, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => metrics.Record("simulated", ScrubMetrics.MigInstance, (ScrubTrigger)99, ScrubVerdict.Verified, 0, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => metrics.Record("simulated", ScrubMetrics.MigInstance, ScrubTrigger.Cli, (ScrubVerdict)99, 0, TimeSpan.Zero));
    }

    [Fact]
    public void Worker_IsThisExecutable_OrTheSameDllUnderTheDotnetHost()
    {
        var defaults = new MigInstanceScrubberOptions();
        var (file, prefix) = defaults.ResolveWorker("/usr/local/bin/securedra", ["/usr/local/bin/securedra", "kubelet-plugin"]);
        Assert.Equal("/usr/local/bin/securedra", file);
        Assert.Empty(prefix);

        (file, prefix) = defaults.ResolveWorker("/usr/share/dotnet/dotnet", ["/app/securedra.dll", "kubelet-plugin"]);
        Assert.Equal("/usr/share/dotnet/dotnet", file);
        Assert.Equal(["/app/securedra.dll"], prefix);

        (file, prefix) = new MigInstanceScrubberOptions { WorkerPath = "/bin/worker", WorkerPrefixArguments = ["x"] }.ResolveWorker("/usr/share/dotnet/dotnet", ["/app/securedra.dll"]);
        Assert.Equal("/bin/worker", file);
        Assert.Equal(["x"], prefix);
    }

    [Fact]
    public void ScrubberOptions_DeadlineIsBounded()
    {
        var e = Assert.Throws<ArgumentException>(() => new MigInstanceScrubberOptions { Deadline = TimeSpan.Zero }.Validate());
        Assert.Contains("MIG scrub deadline", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new MigInstanceScrubberOptions { Deadline = TimeSpan.FromHours(2) }.Validate());
    }
}
