using System.Globalization;
using System.Text.Json.Nodes;
using Grpc.Core;
using SecureDra.EndToEnd.Tests.Fixture;
using SecureDra.LocalCluster.Kubelet;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.EndToEnd.Tests;

/// <summary>
/// Dynamic MIG, kill -9 at each new step (SECUREDRA_CRASH_AT makes the real test-build plugin SIGKILL itself there):
/// an instance created but not checkpointed, scrubbed but not destroyed, destroyed but its slices not recorded clean.
/// After the restart: no instance is ever destroyed with tenant bytes in it (the simulated backend logs the non-zero
/// bytes of each instance at the moment of its destroy), the neighbour's instance and canary are untouched, and the
/// placement comes back only after a verified scrub (a stuck cell keeps it out until it is cleared).
/// </summary>
public class MigDynamicCrashTests
{
    private const string X = "gpu-0-mig-2g20gb-14-2"; // the tenant: slices 2-3
    private const string Y = "gpu-0-mig-1g10gb-19-4"; // the neighbour: slice 4
    private const string Whole = "gpu-0-mig-7g80gb-0-0"; // the full-size placement: published only when all 8 slices are proven
    private const long SliceBytes = 4L * 1024 * 1024 / 8; // --simulated-memory 4Mi
    private static readonly long[] XSpots = [(2 * SliceBytes) + 4096, (3 * SliceBytes) + 100_000];
    private static readonly long[] YSpots = [(4 * SliceBytes) + 4096];
    private static readonly byte[] Neighbour = "TENANT-B-NEIGHBOUR-CANARY"u8.ToArray();

    private static NodeOptions Options() => new()
    {
        KubernetesVersion = "1.36",
        Kubelet = KubeletProfile.V1_36,
        Gpus = 1,
        ExtraPluginArgs = ["--mig-mode", "dynamic"],
        GpuFaults = new Dictionary<string, JsonObject> { ["gpu-0"] = new() { ["migEnabled"] = true } },
    };

    [Theory]
    [InlineData("prepare:after-mig-create")]
    [InlineData("mig:after-instance-scrub")]
    [InlineData("mig:after-instance-destroy")]
    public async Task A_crash_at_a_dynamic_MIG_step_never_destroys_an_instance_unscrubbed_nor_offers_it_before_a_verified_scrub(string crashAt)
    {
        await using var node = await E2eNode.StartAsync(Options());
        await node.CreateDeviceClassAsync("gpu");
        // A first start proves every memory slice through temporary instances, largest placement first; X and Y can be
        // published while other slices are still being proven, and a later temporary instance over Y's slice withdraws
        // Y again for its scrub (as a scheduler would see it). Wait until the first start is over: the full-size
        // placement is published (every slice proven, none under a scrub) and no temporary instance is left.
        await Poll.UntilAsync(async () => (await node.PublishedDevicesAsync()) is var p && p.ContainsKey(X) && p.ContainsKey(Y) && p.ContainsKey(Whole) && (await InstancesAsync(node)).Count == 0,
            "the first start is over: every memory slice proven through temporary instances and each of them destroyed", node.Diagnostics, TimeSpan.FromSeconds(90));

        // The neighbour's instance, prepared and written by its tenant.
        var neighbour = await node.ClaimDeviceAsync("neighbour", Y);
        await node.PrepareOkAsync(neighbour);
        TenantCanary.Write(node.VramFile("gpu-0"), YSpots, Neighbour);
        var neighbourInstance = Assert.Single(await InstancesAsync(node));

        var tenant = await node.ClaimDeviceAsync("tenant", X);
        var preparing = crashAt.StartsWith("prepare:", StringComparison.Ordinal);
        if (!preparing)
        {
            await node.PrepareOkAsync(tenant);
            TenantCanary.Write(node.VramFile("gpu-0"), XSpots);
        }

        await node.RestartPluginAsync(crashAt);
        await Assert.ThrowsAsync<RpcException>(() => preparing ? node.Kubelet.PrepareAsync([tenant]) : node.Kubelet.UnprepareAsync([tenant]));
        await node.WaitForPluginDeathAsync();
        Assert.Equal(crashAt != "mig:after-instance-destroy", (await InstancesAsync(node)).Any(i => i.Placement == new MigPlacement(2, 2)));

        // Assume the worst: the tenant's bytes are in X's memory now, and a stuck cell there makes every scrub of it fail.
        TenantCanary.Write(node.VramFile("gpu-0"), XSpots);
        node.SetGpuFaults("gpu-0", new JsonObject { ["migEnabled"] = true, ["migFailVerifySlice"] = 3 });
        await node.RestartPluginAsync();

        await Poll.StaysAsync(async () => !(await node.PublishedDevicesAsync()).ContainsKey(X), $"{X} stays withdrawn while its scrub fails", TimeSpan.FromMilliseconds(1500), node.Diagnostics);
        AssertNothingDestroyedUnscrubbed(node);
        Assert.Contains(neighbourInstance.Uuid, (await InstancesAsync(node)).Select(i => i.Uuid));

        // The cell is fixed: the retry loop scrubs, verifies, destroys, and only then offers X again.
        node.SetGpuFaults("gpu-0", new JsonObject { ["migEnabled"] = true });
        await Poll.UntilAsync(async () => (await node.PublishedDevicesAsync()).ContainsKey(X), $"{X} scrubbed, destroyed and published again", node.Diagnostics, TimeSpan.FromSeconds(120));

        AssertNothingDestroyedUnscrubbed(node);
        Assert.NotEmpty(DestroyLog(node));
        Assert.True(TenantCanary.ReadSpots(node.VramFile("gpu-0"), XSpots, TenantCanary.Secret.Length).All(b => b == 0), $"the tenant's canary is still in X's memory\n{node.Diagnostics()}");
        Assert.Equal(Neighbour, TenantCanary.ReadSpots(node.VramFile("gpu-0"), YSpots, Neighbour.Length));
        var left = await InstancesAsync(node);
        Assert.Equal([neighbourInstance.Uuid], left.Select(i => i.Uuid));

        // The kubelet's retry succeeds: the prepare with a fresh instance, the release as already done.
        if (preparing)
        {
            var again = await node.PrepareOkAsync(tenant);
            Assert.Equal(X, Assert.Single(again.Devices).DeviceName);
            Assert.Equal(2, (await InstancesAsync(node)).Count);
            await node.UnprepareOkAsync(tenant);
        }
        else
        {
            await node.UnprepareOkAsync(tenant);
        }

        Assert.Equal([neighbourInstance.Uuid], (await InstancesAsync(node)).Select(i => i.Uuid));
        AssertNothingDestroyedUnscrubbed(node);
    }

    private static async Task<IReadOnlyList<MigInstance>> InstancesAsync(E2eNode node)
    {
        var sim = new SimulatedMigBackend(new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = 8 * SliceBytes, VramDirectory = node.VramDir });
        return await sim.GetInstancesAsync(SimulatedDeviceCatalog.Device(0, 8 * SliceBytes), CancellationToken.None);
    }

    private static List<string> DestroyLog(E2eNode node)
    {
        var path = SimulatedMigBackend.DestroyLogPath(node.VramDir, "gpu-0");
        return File.Exists(path) ? [.. File.ReadAllLines(path)] : [];
    }

    private static void AssertNothingDestroyedUnscrubbed(E2eNode node)
    {
        foreach (var line in DestroyLog(node))
        {
            var nonZero = long.Parse(line[(line.LastIndexOf('=') + 1)..], CultureInfo.InvariantCulture);
            Assert.True(nonZero == 0, $"an instance was destroyed with {nonZero} non-zero bytes in it: {line}\n{node.Diagnostics()}");
        }
    }
}
