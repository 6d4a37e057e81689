using System.Text.Json.Nodes;
using SecureDra.Controller.Audit;
using SecureDra.Controller.Audit.Checks;
using SecureDra.Kube.Client;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.LocalCluster.ApiServer;
using SecureDra.Nvml.Backends.Confidential;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.KubeletPlugin.Tests.Mig;

/// <summary>
/// The node's confidential-computing state on every published device (whole GPUs, static instances, dynamic
/// placements) under SecureDra's qualified names (NVIDIA's driver has none for CC), accepted and read back unchanged
/// by the local API server in each version's mode, and published again when only the CC state changes.
/// </summary>
public class ConfidentialComputeAttributeTests
{
    private const string Driver = "gpu.nvidia.com";
    private const string Node = "node-a";
    private static readonly IReadOnlyList<MigProfile> H100 = SimulatedMigProfiles.For(SimulatedMigModel.H100_80GB);
    private readonly FakeGpuBackend _gpus = new(Path.GetTempPath(), 2);

    private sealed class FakeCc : IConfidentialComputeBackend
    {
        public ConfidentialComputeState State { get; set; } = ConfidentialComputeState.Unsupported;

        public Task<ConfidentialComputeState> GetConfidentialComputeStateAsync(CancellationToken cancellationToken) => Task.FromResult(State);
    }

    private static ConfidentialComputeState Cc(bool enabled, bool devTools, bool? ready) => new(true, CcEnvironment.Production, enabled, devTools, CcMultiGpuMode.None, ready);

    private static (SliceDeviceRenderer Gpu, MigDeviceRenderer Mig) Renderers(ConfidentialComputeState? state)
    {
        var attributes = new ConfidentialComputeAttributes();
        if (state is not null)
        {
            attributes.Update(state);
        }

        var gpu = new SliceDeviceRenderer(new PciTopology("/nonexistent"), attributes);
        return (gpu, new MigDeviceRenderer(gpu));
    }

    private static Dictionary<string, DeviceAttributeValue> CcOf(SliceDevice device) =>
        device.Attributes.Where(a => a.Key.StartsWith("securedra.io/", StringComparison.Ordinal)).ToDictionary(a => a.Key, a => a.Value);

    private static Dictionary<string, DeviceAttributeValue> Expected(bool enabled, bool devTools, bool ready) => new()
    {
        ["securedra.io/ccEnabled"] = DeviceAttributeValue.Of(enabled),
        ["securedra.io/ccDevToolsMode"] = DeviceAttributeValue.Of(devTools),
        ["securedra.io/ccReady"] = DeviceAttributeValue.Of(ready),
    };

    private List<SliceDevice> AllKinds((SliceDeviceRenderer Gpu, MigDeviceRenderer Mig) r)
    {
        var seven = H100.Single(p => p.Id == 0); // 7g: every memory slice as a capacity, the most entries a device has
        return
        [
            r.Gpu.RenderDevice(_gpus.Devices[0], []),
            r.Mig.StaticInstance(_gpus.Devices[1], new MigInstanceInfo("MIG-11111111-2222-3333-4444-555555555555", seven, new MigPlacement(0, 8), 0, 0), []),
            r.Mig.Placement(_gpus.Devices[1], H100.Single(p => p.Id == 19), new MigPlacement(3, 1), []),
        ];
    }

    [Fact]
    public void Before_the_state_is_read_no_cc_attribute_is_published()
    {
        Assert.All(AllKinds(Renderers(null)), d => Assert.Empty(CcOf(d)));
        Assert.All(AllKinds((new SliceDeviceRenderer(new PciTopology("/nonexistent")), new MigDeviceRenderer(new SliceDeviceRenderer(new PciTopology("/nonexistent"))))), d => Assert.Empty(CcOf(d)));
    }

    [Theory]
    [InlineData(true, true, true)] // CC on, devtools, ready
    [InlineData(true, false, false)] // CC on, not ready (such devices are withdrawn; tainted when taints are in use)
    [InlineData(false, false, true)] // CC off: nothing to wait for
    public void Every_kind_of_device_carries_the_node_s_cc_state(bool enabled, bool devTools, bool ready)
    {
        var devices = AllKinds(Renderers(Cc(enabled, devTools, ready)));
        Assert.All(devices, d => Assert.Equal(Expected(enabled, devTools, ready).OrderBy(k => k.Key), CcOf(d).OrderBy(k => k.Key)));
        // The API's limit of 32 attributes and capacities per device holds for the largest device, a pcieRoot included.
        Assert.All(devices, d => Assert.True(d.Attributes.Count + d.Capacity.Count + 1 <= 32, $"{d.Name}: {d.Attributes.Count} + {d.Capacity.Count}"));
    }

    [Fact]
    public void A_driver_without_cc_reads_as_cc_off_and_ready()
    {
        Assert.All(AllKinds(Renderers(ConfidentialComputeState.Unsupported)), d => Assert.Equal(Expected(false, false, true).OrderBy(k => k.Key), CcOf(d).OrderBy(k => k.Key)));
        // devToolsMode without support means nothing: not published as on.
        Assert.All(AllKinds(Renderers(ConfidentialComputeState.Unsupported with { DevToolsMode = true })), d => Assert.Equal(DeviceAttributeValue.Of(false), d.Attributes[ConfidentialComputeAttributes.DevToolsMode]));
    }

    [Theory]
    [InlineData("1.34")]
    [InlineData("1.35")]
    [InlineData("1.36")]
    public async Task Each_version_s_api_server_accepts_the_attributes_and_reads_them_back_unchanged(string version)
    {
        var devices = AllKinds(Renderers(Cc(true, true, true))).Take(2).ToList(); // the placement needs counters: MigSliceLayoutServerTests
        await using var server = await LocalApiServer.StartAsync(new LocalApiServerOptions { Listen = "127.0.0.1:0", KubernetesVersion = version }, CancellationToken.None);
        using var api = new ResourceApi(KubeApiClientFactory.Create(server.BaseAddress.ToString().TrimEnd('/')));
        await api.NegotiateAsync(CancellationToken.None);

        var written = await api.CreateSliceAsync(new ResourceSliceModel(null, null, Driver, Node, Node, 1, 1, devices, GenerateName: $"{Node}-"), CancellationToken.None);

        Assert.True(SliceDeviceComparer.SameDevices(devices, written.Devices), "devices read back as written");
        Assert.All(written.Devices, d => Assert.Equal(Expected(true, true, true).OrderBy(k => k.Key), CcOf(d).OrderBy(k => k.Key)));
    }

    [Fact]
    public async Task A_change_of_the_cc_state_alone_is_published()
    {
        var cc = new FakeCc { State = Cc(true, false, true) };
        await using var h = PipelineHarness.Create(2, confidential: cc);
        await h.StartAsync(loops: true);

        bool Published(bool devTools) =>
            h.Api.Slices.SelectMany(s => s.Devices).Count() == 2 &&
            h.Api.Slices.SelectMany(s => s.Devices).All(d => d.Attributes.TryGetValue(ConfidentialComputeAttributes.DevToolsMode, out var v) && v == DeviceAttributeValue.Of(devTools));
        await Poll.UntilAsync(() => Published(devTools: false), "both GPUs published with ccDevToolsMode=false");
        var before = h.Inventory.Snapshot().Devices.Select(d => (d.Name, d.State, d.IsOffered)).ToList();

        // Devtools mode turns on (no readiness change, so no withdrawal): the slices change anyway, and nothing else does.
        cc.State = Cc(true, true, true);
        var monitor = (ConfidentialComputeMonitor)h.Provider.GetService(typeof(ConfidentialComputeMonitor))!;
        await monitor.RefreshAsync(CancellationToken.None);
        await Poll.UntilAsync(() => Published(devTools: true), "the slices republished with ccDevToolsMode=true");
        Assert.Equal(before, h.Inventory.Snapshot().Devices.Select(d => (d.Name, d.State, d.IsOffered)).ToList());
        Assert.Equal(1, h.Metrics.Gauge("securedra_cc_state", "", "field").Value("devtools_mode"));

        // The same state again writes nothing.
        var writes = h.Api.Writes;
        var version = h.Inventory.Version;
        await monitor.RefreshAsync(CancellationToken.None);
        Assert.Equal(version, h.Inventory.Version);
        Assert.Equal(writes, h.Api.Writes);
    }

    [Fact]
    public async Task A_change_of_the_cc_state_alone_is_published_at_once_not_at_the_next_resync()
    {
        // The slice publisher skips rendering when nothing it renders from changed (SliceRenderInputs); the CC
        // attributes are such an input. With the resync ten minutes away, only that can publish the change.
        var cc = new FakeCc { State = Cc(true, false, true) };
        await using var h = PipelineHarness.Create(2, new SecureDra.KubeletPlugin.Pipeline.ClaimPipelineOptions { SliceResyncInterval = TimeSpan.FromMinutes(10) }, confidential: cc);
        await h.StartAsync(loops: true);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await h.Publisher.WaitForPublishedAsync(h.Inventory.Version, cts.Token);

        cc.State = Cc(true, true, true);
        var monitor = (ConfidentialComputeMonitor)h.Provider.GetService(typeof(ConfidentialComputeMonitor))!;
        await monitor.RefreshAsync(CancellationToken.None);
        await h.Publisher.WaitForPublishedAsync(h.Inventory.Version, cts.Token);
        Assert.All(h.Api.Slices.SelectMany(s => s.Devices), d => Assert.Equal(DeviceAttributeValue.Of(true), d.Attributes[ConfidentialComputeAttributes.DevToolsMode]));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Simulated_devtools_mode_is_published_and_the_auditor_finds_it_in_the_published_slices(bool devTools)
    {
        using var dir = new TempDir();
        SimulatedSystemFaultFile.Write(dir.Path, new SimulatedSystemFaults
        {
            ConfidentialCompute = new SimulatedConfidentialCompute { CcFeature = true, DevToolsMode = devTools, GpusReady = true },
        });
        var cc = new SimulatedConfidentialComputeBackend(new SimulatedGpuOptions { DeviceCount = 2, MemoryBytes = 1 << 20, VramDirectory = dir.Path, FaultFiles = true });
        await using var h = PipelineHarness.Create(2, confidential: cc);
        await h.StartAsync(loops: true);
        await Poll.UntilAsync(() => h.Api.Slices.SelectMany(s => s.Devices).Count(d => d.Attributes.ContainsKey(ConfidentialComputeAttributes.DevToolsMode)) == 2, "both GPUs published with their CC attributes");

        // The slices as the API serves them (resource.k8s.io/v1 JSON), audited as `securedra audit --manifests` audits a dump.
        var objects = h.Api.Slices.Select(s =>
        {
            var json = ResourceSliceConverter.ToJson(s, ResourceApiVersion.V1);
            json["apiVersion"] ??= "resource.k8s.io/v1";
            json["kind"] ??= "ResourceSlice";
            return json;
        }).ToList();
        var options = new HardeningAuditOptions { DriverName = h.Api.Slices[0].Driver };
        var findings = new ConfidentialComputeDevToolsCheck().Run(ClusterSnapshot.FromObjects(objects), options).ToList();

        if (devTools)
        {
            var finding = Assert.Single(findings);
            Assert.Equal((AuditChecks.ConfidentialComputeDevTools, AuditSeverity.High), (finding.Check, finding.Severity));
            Assert.Contains("gpu-0, gpu-1", finding.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(findings);
        }

        Assert.Equal(devTools ? 1 : 0, h.Metrics.Gauge("securedra_cc_state", "", "field").Value("devtools_mode"));
    }
}
