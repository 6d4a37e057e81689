using Microsoft.Extensions.Options;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Nvidia;
using SecureDra.Nvml.Canary;
using SecureDra.Nvml.Scrubbing;
using SecureDra.Observability.Metrics;

namespace SecureDra.Nvml.Tests;

/// <summary>
/// The VRAM canary on a real GPU (CI filters these out; run with <c>--filter Category=Gpu</c> on a GPU machine):
/// the CUDA marker fill reaches every word including an odd tail, and after a verified scrub the canary passes.
/// </summary>
[Trait("Category", "Gpu")]
public class GpuCanaryHardwareTests
{
    [Fact]
    public async Task Fill_writes_the_marker_into_every_word_and_the_odd_tail()
    {
        await using var backend = new NvidiaGpuBackend(new NvidiaBackendOptions(), TimeProvider.System);
        var device = (await backend.EnumerateAsync(CancellationToken.None))[0];
        await using var session = NvidiaMemorySession.Open(device.PciBusId!);
        const long bytes = (64L * 1024 * 1024) + 3;
        using var allocation = session.TryAllocate(bytes)!;
        ((IDeviceMemoryFill)session).Fill(allocation, CanaryOptions.MarkerPattern);
        session.Synchronize();
        Assert.False(session.VerifyZero(allocation));

        var host = new byte[bytes];
        session.Driver.CopyToHost(host, NvidiaMemorySession.DevicePointerOf(allocation));
        var marker = BitConverter.GetBytes(CanaryOptions.MarkerPattern);
        for (long i = 0; i < bytes - 3; i += 4)
        {
            Assert.True(host.AsSpan((int)i, 4).SequenceEqual(marker), $"word at {i} is not the marker");
        }

        Assert.All(host[^3..], b => Assert.Equal(marker[0], b));
    }

    [Fact]
    public async Task After_a_verified_scrub_the_canary_passes_and_leaves_its_marker()
    {
        await using var backend = new NvidiaGpuBackend(new NvidiaBackendOptions(), TimeProvider.System);
        var device = (await backend.EnumerateAsync(CancellationToken.None))[0];
        var scrubber = new VramScrubber(backend, Options.Create(new ScrubberOptions()), TimeProvider.System, new ScrubMetrics(new MetricsRegistry()));
        Assert.True((await scrubber.ScrubAsync(device, ScrubTrigger.Cli, CancellationToken.None)).Succeeded);

        var canary = new VramCanary(backend, TimeProvider.System, new CapturingLogger<VramCanary>());
        var report = await canary.RunAsync(device, new CanaryOptions(), CancellationToken.None);
        Assert.True(report.Verdict == CanaryVerdict.Clean, $"{report.Verdict}: {report.FailureReason}");
        Assert.True(report.MarkerWritten);
        Assert.True(report.BytesChecked >= device.MemoryBytes / 2, $"checked only {report.BytesChecked} of {device.MemoryBytes} bytes");

        // A scrub removes the marker: the next run passes again.
        Assert.True((await scrubber.ScrubAsync(device, ScrubTrigger.Cli, CancellationToken.None)).Succeeded);
        Assert.Equal(CanaryVerdict.Clean, (await canary.RunAsync(device, new CanaryOptions(), CancellationToken.None)).Verdict);
    }
}
