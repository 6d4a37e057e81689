using System.Text.Json.Nodes;

namespace SecureDra.Compatibility.Tests;

/// <summary>
/// Devices per ResourceSlice on each release (reference sheet §5.1): 128; from 1.35, 64 when any device
/// carries taints. 130 tiny simulated GPUs make the limits visible as the number of slices.
/// </summary>
public class SliceLimitMatrixTests
{
    private const int Gpus = 130;

    public static TheoryData<string> Releases => ["1.32", "1.33", "1.34", "1.35", "1.36"];

    [Theory]
    [MemberData(nameof(Releases))]
    public async Task Without_taints_130_devices_take_two_slices_of_at_most_128(string version)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var cluster = await Cluster.StartAsync(version, gpus: Gpus, memory: "64Ki");

        var slices = await cluster.WaitForSlicesAsync(s => s.Sum(x => Cluster.Devices(x).Count) == Gpus, timeout.Token);

        Assert.Equal([2, 128], slices.Select(s => Cluster.Devices(s).Count).Order());
        AssertDistinctDevices(slices, Gpus);
        Assert.All(slices, s => Assert.Equal($"resource.k8s.io/{cluster.Release.ExpectedApiVersion}", s["apiVersion"]!.GetValue<string>()));
    }

    /// <summary>
    /// One GPU reports a fatal Xid with --withdrawal-mode taint-noschedule. Where the API server keeps device
    /// taints the GPU stays in its slice with a NoSchedule taint, and from 1.35 a slice with a tainted device
    /// holds at most 64 devices; where taints do not exist (1.32) or the DRADeviceTaints gate is off (the
    /// server drops the field: 1.33–1.35 by default) the GPU is removed from its slice instead.
    /// </summary>
    [Theory]
    [InlineData("1.32", null, false, new[] { 1, 128 })]
    [InlineData("1.33", true, true, new[] { 2, 128 })]
    [InlineData("1.34", null, false, new[] { 1, 128 })]
    [InlineData("1.34", true, true, new[] { 2, 128 })]
    [InlineData("1.35", null, false, new[] { 1, 128 })]
    [InlineData("1.35", true, true, new[] { 2, 64, 64 })]
    [InlineData("1.36", null, true, new[] { 2, 64, 64 })]
    public async Task A_withdrawn_gpu_is_tainted_where_the_server_keeps_taints_else_removed(string version, bool? deviceTaints, bool tainted, int[] sliceSizes)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var cluster = await Cluster.StartAsync(version, gpus: Gpus, memory: "64Ki", deviceTaints: deviceTaints, pluginArgs: ["--withdrawal-mode", "taint-noschedule"]);
        await cluster.WaitForSlicesAsync(s => s.Sum(x => Cluster.Devices(x).Count) == Gpus, timeout.Token);

        InjectFatalXid(cluster.Plugin.VramDirectory, "gpu-7");

        var slices = await cluster.WaitForSlicesAsync(
            s => tainted
                ? s.SelectMany(Cluster.Devices).Any(d => Taints(d!.AsObject()).Count > 0)
                : s.Sum(x => Cluster.Devices(x).Count) == Gpus - 1,
            timeout.Token);

        Assert.Equal(sliceSizes, slices.Select(s => Cluster.Devices(s).Count).Order());
        var devices = slices.SelectMany(Cluster.Devices).Select(d => d!.AsObject()).ToList();
        if (tainted)
        {
            AssertDistinctDevices(slices, Gpus);
            var withTaints = Assert.Single(devices, d => Taints(d).Count > 0);
            Assert.Equal("gpu-7", withTaints["name"]!.GetValue<string>());
            Assert.Contains(Taints(withTaints), t => t!["effect"]!.GetValue<string>() == "NoSchedule");
        }
        else
        {
            AssertDistinctDevices(slices, Gpus - 1);
            Assert.DoesNotContain(devices, d => d["name"]!.GetValue<string>() == "gpu-7");
            Assert.All(devices, d => Assert.Empty(Taints(d)));
        }
    }

    /// <summary>v1beta1 keeps taints under basic; v1beta2 and v1 on the device.</summary>
    private static JsonArray Taints(JsonObject device) =>
        (device["basic"]?["taints"] ?? device["taints"])?.AsArray() ?? [];

    private static void AssertDistinctDevices(IReadOnlyList<JsonObject> slices, int expected)
    {
        var names = slices.SelectMany(Cluster.Devices).Select(d => d!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(expected, names.Count);
        Assert.Equal(expected, names.Distinct(StringComparer.Ordinal).Count());
    }

    private static void InjectFatalXid(string vramDirectory, string device)
    {
        var path = Path.Combine(vramDirectory, device + ".faults.json");
        var temp = path + ".tmp";
        File.WriteAllText(temp, """{"healthEvents":[{"kind":"xid","data":79,"description":"GPU has fallen off the bus"}]}""");
        File.Move(temp, path, overwrite: true);
    }
}
