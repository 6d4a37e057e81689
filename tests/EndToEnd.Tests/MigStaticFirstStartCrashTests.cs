using System.Text.Json.Nodes;
using SecureDra.EndToEnd.Tests.Fixture;
using SecureDra.LocalCluster.Kubelet;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.EndToEnd.Tests;

/// <summary>
/// Static MIG on a first install (no checkpoint) of a GPU already in MIG mode, with the real test-build plugin: the
/// administrator's two instances hold a previous tenant's canary. The plugin SIGKILLs itself (SECUREDRA_CRASH_AT) after
/// the first instance scrub verified and before it was recorded; the restart, with the canaries back and a stuck cell
/// in one instance, offers each instance only after its own new verified scrub.
/// </summary>
public class MigStaticFirstStartCrashTests
{
    private const string X = "gpu-0-mig-2g20gb-14-2"; // slices 2-3
    private const string Y = "gpu-0-mig-1g10gb-19-4"; // slice 4
    private const long SliceBytes = 4L * 1024 * 1024 / 8; // --simulated-memory 4Mi
    private static readonly long[] XSpots = [(2 * SliceBytes) + 4096, (3 * SliceBytes) + 100_000];
    private static readonly long[] YSpots = [(4 * SliceBytes) + 4096];
    private static readonly long[] UncoveredSpots = [4096, (7 * SliceBytes) + 4096];
    private static readonly byte[] Other = "PREVIOUS-TENANT-Y-CANARY"u8.ToArray();

    private static NodeOptions Options() => new()
    {
        KubernetesVersion = "1.36",
        Kubelet = KubeletProfile.V1_36,
        Gpus = 1,
        ExtraPluginArgs = ["--mig-mode", "static"],
        GpuFaults = new Dictionary<string, JsonObject> { ["gpu-0"] = new() { ["migEnabled"] = true } },
    };

    [Fact]
    public async Task A_kill_during_the_first_starts_instance_scrubs_never_offers_an_instance_before_its_own_verified_scrub()
    {
        // The node runs once with MIG on and no instance (nothing to publish); then the administrator creates two.
        await using var node = await E2eNode.StartAsync(Options());
        await node.KillPluginAsync();
        var sim = Simulated(node);
        var gpu = SimulatedDeviceCatalog.Device(0, 8 * SliceBytes);
        await sim.CreateComputeInstanceAsync(gpu, (await sim.CreateGpuInstanceAsync(gpu, SimulatedMigProfiles.Profile2g, new MigPlacement(2, 2), CancellationToken.None)).GpuInstanceId, CancellationToken.None);
        await sim.CreateComputeInstanceAsync(gpu, (await sim.CreateGpuInstanceAsync(gpu, SimulatedMigProfiles.Profile1g, new MigPlacement(4, 1), CancellationToken.None)).GpuInstanceId, CancellationToken.None);
        PlantCanaries(node);
        File.Delete(node.CheckpointPath); // a first install: nothing proves anything clean

        // First start: the first instance scrub verifies, then the plugin dies before recording it.
        await Assert.ThrowsAnyAsync<Exception>(() => node.StartPluginAsync("mig:after-instance-scrub"));
        await node.WaitForPluginDeathAsync();
        Assert.Contains("mig:after-instance-scrub", node.Plugin.Output, StringComparison.Ordinal); // it died at the crash point, not otherwise
        var published = await node.PublishedDevicesAsync();
        Assert.False(published.ContainsKey(X) || published.ContainsKey(Y), $"an instance was published before start-up finished\n{node.Diagnostics()}");

        // Assume the worst: the previous tenant's bytes are back in both, and a stuck cell in Y fails every scrub of it.
        PlantCanaries(node);
        node.SetGpuFaults("gpu-0", new JsonObject { ["migEnabled"] = true, ["migFailVerifySlice"] = 4 });
        await node.StartPluginAsync();

        await Poll.UntilAsync(async () => (await node.PublishedDevicesAsync()).ContainsKey(X), $"{X} scrubbed again and published", node.Diagnostics, TimeSpan.FromSeconds(60));
        Assert.True(TenantCanary.ReadSpots(node.VramFile("gpu-0"), XSpots, TenantCanary.Secret.Length).All(b => b == 0), $"the canary is still in X's memory\n{node.Diagnostics()}");
        await Poll.StaysAsync(async () => !(await node.PublishedDevicesAsync()).ContainsKey(Y), $"{Y} stays withdrawn while its scrub fails", TimeSpan.FromMilliseconds(1500), node.Diagnostics);
        Assert.DoesNotContain("gpu-0", (await node.PublishedDevicesAsync()).Keys);

        // The cell recovers: the retry loop verifies Y and only then publishes it. Uncovered memory is never touched.
        node.SetGpuFaults("gpu-0", new JsonObject { ["migEnabled"] = true });
        await Poll.UntilAsync(async () => (await node.PublishedDevicesAsync()).ContainsKey(Y), $"{Y} verified and published", node.Diagnostics, TimeSpan.FromSeconds(60));
        Assert.True(TenantCanary.ReadSpots(node.VramFile("gpu-0"), YSpots, Other.Length).All(b => b == 0), $"the canary is still in Y's memory\n{node.Diagnostics()}");
        Assert.Equal(TenantCanary.Secret.Concat(TenantCanary.Secret), TenantCanary.ReadSpots(node.VramFile("gpu-0"), UncoveredSpots, TenantCanary.Secret.Length));
        Assert.DoesNotContain("gpu-0", (await node.PublishedDevicesAsync()).Keys);
        var metrics = (await node.MetricsAsync()).Split('\n');
        Assert.Contains(metrics, l => l.StartsWith("securedra_scrubs_total{", StringComparison.Ordinal) && l.Contains("target=\"mig_instance\"", StringComparison.Ordinal) && l.Contains("trigger=\"retry\"", StringComparison.Ordinal));
    }

    private static SimulatedMigBackend Simulated(E2eNode node) =>
        new(new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = 8 * SliceBytes, VramDirectory = node.VramDir, FaultFiles = true });

    private static void PlantCanaries(E2eNode node)
    {
        TenantCanary.Write(node.VramFile("gpu-0"), XSpots);
        TenantCanary.Write(node.VramFile("gpu-0"), YSpots, Other);
        TenantCanary.Write(node.VramFile("gpu-0"), UncoveredSpots);
    }
}
