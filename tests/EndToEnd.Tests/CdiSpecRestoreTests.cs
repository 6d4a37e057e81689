using System.Text.Json.Nodes;
using Grpc.Core;
using SecureDra.EndToEnd.Tests.Fixture;
using SecureDra.LocalCluster.Kubelet;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.EndToEnd.Tests;

/// <summary>
/// Prepare writes a claim's CDI spec and its Prepared commit at once, so a crash can land between them with the claim
/// Prepared in the checkpoint and no spec on disk. The real plugin process, killed and restarted: the kubelet's retried
/// Prepare must get the same CDI IDs, backed by the same spec file, byte for byte. The same when the spec vanishes under
/// a running plugin (a tmpfs /var/run/cdi emptied, an operator's rm).
/// </summary>
public class CdiSpecRestoreTests
{
    [Fact]
    public async Task A_crash_after_the_Prepared_commit_with_the_spec_missing_is_answered_with_the_same_ids_and_the_spec_back()
    {
        await using var node = await E2eNode.StartAsync(new NodeOptions { CrashAt = "prepare:after-checkpoint-prepared" });
        await node.CreateDeviceClassAsync("gpu");
        var claim = await node.ClaimDeviceAsync("torn", "gpu-0");

        await Assert.ThrowsAsync<RpcException>(() => node.Kubelet.PrepareAsync([claim]));
        await node.WaitForPluginDeathAsync();
        // The disk as a crash between the two overlapped writes leaves it: Prepared durable, the spec never renamed in.
        var cdi = node.CdiFile(claim.Uid);
        var written = await File.ReadAllBytesAsync(cdi);
        File.Delete(cdi);
        await node.RestartPluginAsync();

        Assert.True(File.Exists(cdi), $"the restarted plugin did not write back the spec of a prepared claim\n{node.Diagnostics()}");
        Assert.Equal(written, await File.ReadAllBytesAsync(cdi));
        var again = await node.PrepareOkAsync(claim);
        var device = Assert.Single(again.Devices);
        Assert.Equal([E2eNode.CdiId(claim.Uid, "gpu-0")], device.CdiDeviceIds);
        var metrics = await node.MetricsAsync();
        Assert.Contains("securedra_prepare_total{outcome=\"idempotent\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("securedra_cdi_spec_restored_total{outcome=\"missing\"} 1", metrics, StringComparison.Ordinal);

        node.WriteCanary("gpu-0");
        await node.UnprepareOkAsync(claim);
        node.AssertCanaryZeroed("gpu-0");
        Assert.Empty(Directory.GetFiles(node.CdiDir));
    }

    [Fact]
    public async Task A_spec_deleted_under_a_running_plugin_is_back_before_the_retried_Prepare_is_answered()
    {
        await using var node = await E2eNode.StartAsync();
        await node.CreateDeviceClassAsync("gpu");
        var claim = await node.ClaimDeviceAsync("wiped", "gpu-1");
        var first = await node.PrepareOkAsync(claim);
        var cdi = node.CdiFile(claim.Uid);
        var written = await File.ReadAllBytesAsync(cdi);

        File.Delete(cdi);
        var again = await node.PrepareOkAsync(claim);

        Assert.Equal(Assert.Single(first.Devices).CdiDeviceIds, Assert.Single(again.Devices).CdiDeviceIds);
        Assert.Equal(written, await File.ReadAllBytesAsync(cdi));
        Assert.Contains("securedra_cdi_spec_restored_total{outcome=\"missing\"} 1", await node.MetricsAsync(), StringComparison.Ordinal);
        await node.UnprepareOkAsync(claim);
        Assert.Empty(Directory.GetFiles(node.CdiDir));
    }

    [Fact]
    public async Task A_dynamic_MIG_claims_spec_missing_after_a_crash_is_rebuilt_from_its_instance_and_the_retry_gets_the_same_ids()
    {
        const string x = "gpu-0-mig-2g20gb-14-2";
        const long memory = 4L * 1024 * 1024;
        await using var node = await E2eNode.StartAsync(new NodeOptions
        {
            KubernetesVersion = "1.36",
            Kubelet = KubeletProfile.V1_36,
            Gpus = 1,
            ExtraPluginArgs = ["--mig-mode", "dynamic"],
            GpuFaults = new Dictionary<string, JsonObject> { ["gpu-0"] = new() { ["migEnabled"] = true } },
        });
        await node.CreateDeviceClassAsync("gpu");
        var sim = new SimulatedMigBackend(new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = memory, VramDirectory = node.VramDir });
        var parent = SimulatedDeviceCatalog.Device(0, memory);
        // The first start proves every memory slice through temporary instances: wait until it is over.
        await Poll.UntilAsync(async () => (await node.PublishedDevicesAsync()).ContainsKey(x) && (await sim.GetInstancesAsync(parent, CancellationToken.None)).Count == 0,
            "the first start is over", node.Diagnostics, TimeSpan.FromSeconds(90));
        var claim = await node.ClaimDeviceAsync("torn-mig", x);

        await node.RestartPluginAsync("prepare:after-checkpoint-prepared");
        await Assert.ThrowsAsync<RpcException>(() => node.Kubelet.PrepareAsync([claim]));
        await node.WaitForPluginDeathAsync();
        var instance = Assert.Single(await sim.GetInstancesAsync(parent, CancellationToken.None));
        // The disk as a crash between the two overlapped writes leaves it: Prepared durable, the spec never renamed in.
        var cdi = node.CdiFile(claim.Uid);
        var written = await File.ReadAllBytesAsync(cdi);
        File.Delete(cdi);
        await node.RestartPluginAsync();

        Assert.True(File.Exists(cdi), $"the restarted plugin did not rebuild the MIG claim's spec\n{node.Diagnostics()}");
        Assert.Equal(written, await File.ReadAllBytesAsync(cdi));
        var again = await node.PrepareOkAsync(claim);
        Assert.Equal([E2eNode.CdiId(claim.Uid, x)], Assert.Single(again.Devices).CdiDeviceIds);
        Assert.Equal(instance.Uuid, Assert.Single(await sim.GetInstancesAsync(parent, CancellationToken.None)).Uuid);
        Assert.Contains("securedra_cdi_spec_restored_total{outcome=\"missing\"} 1", await node.MetricsAsync(), StringComparison.Ordinal);

        await node.UnprepareOkAsync(claim);
        Assert.Empty(await sim.GetInstancesAsync(parent, CancellationToken.None));
        Assert.Empty(Directory.GetFiles(node.CdiDir));
    }
}
