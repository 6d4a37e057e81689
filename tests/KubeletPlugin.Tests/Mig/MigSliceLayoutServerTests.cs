using System.Net;
using SecureDra.Kube.Client;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.LocalCluster.ApiServer;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.KubeletPlugin.Tests.Mig;

/// <summary>
/// The per-version slice layout of partitionable GPUs, checked by the local API server in each
/// version's mode: 1.34 combined (counter set and its devices in one slice), 1.35+ split (counter
/// sets alone first), each refused by the other's rules, and dropped where DRAPartitionableDevices is off.
/// </summary>
public class MigSliceLayoutServerTests
{
    private const string Driver = "gpu.securedra.dev";
    private const string Node = "node-a";
    private readonly FakeGpuBackend _gpus = new(Path.GetTempPath(), 3);
    private readonly MigDeviceRenderer _renderer = new(new SliceDeviceRenderer(new PciTopology("/nonexistent")));

    private List<MigPartitionedGpu> Partitioned(IReadOnlyList<MigProfile> profiles, params GpuDevice[] gpus) =>
        [.. gpus.Select(g => new MigPartitionedGpu(
            MigDeviceRenderer.CounterSet(g, profiles),
            [_renderer.WholeGpu(g, profiles, []), .. profiles.SelectMany(p => p.Placements.Select(pl => _renderer.Placement(g, p, pl, [])))]))];

    private static async Task<(LocalApiServer Server, ResourceApi Api)> StartAsync(string version, bool? partitionable)
    {
        var server = await LocalApiServer.StartAsync(new LocalApiServerOptions { Listen = "127.0.0.1:0", KubernetesVersion = version, PartitionableDevices = partitionable }, CancellationToken.None);
        var api = new ResourceApi(KubeApiClientFactory.Create(server.BaseAddress.ToString().TrimEnd('/')));
        await api.NegotiateAsync(CancellationToken.None);
        return (server, api);
    }

    private static ResourceSliceModel Model(DesiredSlice s, int count) =>
        new(null, null, Driver, Node, Node, 1, count, s.Devices, GenerateName: $"{Node}-", SharedCounters: s.SharedCounters);

    [Theory]
    [InlineData("1.34", 34, true)]
    [InlineData("1.35", 35, true)]
    [InlineData("1.36", 36, null)] // on by default from 1.36
    public async Task The_version_s_layout_is_accepted_and_read_back_whole(string version, int minor, bool? gate)
    {
        var profiles = SimulatedMigProfiles.For(SimulatedMigModel.A100_40GB);
        var layout = MigSliceLayout.Layout(minor, Partitioned(profiles, _gpus.Devices[0], _gpus.Devices[1]), [new SliceDeviceRenderer(new PciTopology("/nonexistent")).RenderDevice(_gpus.Devices[2], [])], 128, minor >= 35 ? 64 : 128);
        if (minor >= 35)
        {
            Assert.Equal(4, layout.Count); // counters alone, gpu-0's devices, gpu-1's devices, the plain GPU
            Assert.Empty(layout[0].Devices);
            Assert.Equal(["gpu-0-counter-set", "gpu-1-counter-set"], layout[0].SharedCounters.Select(c => c.Name));
            Assert.All(layout.Skip(1), s => Assert.Empty(s.SharedCounters));
        }
        else
        {
            Assert.Equal(3, layout.Count); // each GPU's counter set with its own devices, then the plain GPU
            Assert.Equal("gpu-0-counter-set", Assert.Single(layout[0].SharedCounters).Name);
            Assert.Equal(26, layout[0].Devices.Count);
        }

        var (server, api) = await StartAsync(version, gate);
        await using var _ = server;
        using var __ = api;
        foreach (var slice in layout)
        {
            var written = await api.CreateSliceAsync(Model(slice, layout.Count), CancellationToken.None);
            Assert.True(SliceDeviceComparer.SameDevices(slice.Devices, written.Devices), "devices, counters consumed included, read back as written");
            Assert.True(SliceDeviceComparer.SameCounterSets(slice.SharedCounters, written.SharedCounters), "counter sets read back as written");
        }
    }

    [Fact]
    public async Task A_1_35_server_refuses_the_combined_1_34_layout()
    {
        var layout = MigSliceLayout.Layout(34, Partitioned(SimulatedMigProfiles.For(SimulatedMigModel.A100_40GB), _gpus.Devices[0]), [], 128, 128);
        var (server, api) = await StartAsync("1.35", true);
        await using var _ = server;
        using var __ = api;

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => api.CreateSliceAsync(Model(layout[0], 1), CancellationToken.None));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, ex.StatusCode);
        Assert.Contains("sharedCounters", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_1_34_server_refuses_devices_that_consume_a_counter_set_of_another_slice()
    {
        var layout = MigSliceLayout.Layout(35, Partitioned(SimulatedMigProfiles.For(SimulatedMigModel.A100_40GB), _gpus.Devices[0]), [], 128, 64);
        var (server, api) = await StartAsync("1.34", true);
        await using var _ = server;
        using var __ = api;

        await api.CreateSliceAsync(Model(layout[0], 2), CancellationToken.None);
        var ex = await Assert.ThrowsAsync<KubeApiException>(() => api.CreateSliceAsync(Model(layout[1], 2), CancellationToken.None));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, ex.StatusCode);
        Assert.Contains("consumesCounters", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_1_35_server_refuses_more_than_8_counter_sets_in_one_slice()
    {
        var profiles = SimulatedMigProfiles.For(SimulatedMigModel.H100_80GB);
        var many = new FakeGpuBackend(Path.GetTempPath(), 9).Devices;
        var sets = many.Select(g => MigDeviceRenderer.CounterSet(g, profiles)).ToList();
        var (server, api) = await StartAsync("1.35", true);
        await using var _ = server;
        using var __ = api;

        var ex = await Assert.ThrowsAsync<KubeApiException>(() => api.CreateSliceAsync(Model(new DesiredSlice([], sets), 1), CancellationToken.None));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, ex.StatusCode);

        // The layout never asks for that: 9 GPUs give two counter-only slices of 8 and 1.
        var layout = MigSliceLayout.Layout(35, Partitioned(profiles, [.. many]), [], 128, 64);
        Assert.Equal([8, 1], layout.Where(s => s.SharedCounters.Count > 0).Select(s => s.SharedCounters.Count));
    }

    [Theory]
    [InlineData("1.34")]
    [InlineData("1.35")]
    public async Task With_the_gate_off_the_server_drops_counters_silently(string version)
    {
        var minor = int.Parse(version[2..], System.Globalization.CultureInfo.InvariantCulture);
        var layout = MigSliceLayout.Layout(minor, Partitioned(SimulatedMigProfiles.For(SimulatedMigModel.A100_40GB), _gpus.Devices[0]), [], 128, minor >= 35 ? 64 : 128);
        var (server, api) = await StartAsync(version, null); // alpha before 1.36: off by default
        await using var _ = server;
        using var __ = api;

        var written = await api.CreateSliceAsync(Model(layout[0], layout.Count), CancellationToken.None);
        Assert.Empty(written.SharedCounters ?? []);
        Assert.All(written.Devices, d => Assert.Empty(d.ConsumesCounters ?? []));
    }
}
