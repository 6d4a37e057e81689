using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.KubeletPlugin.Tests.Mig;

/// <summary>Names, attributes and counters exactly as NVIDIA's DRA driver publishes them (mig.go, partitions.go, deviceinfo.go).</summary>
public class MigRenderingGoldenTests
{
    private static readonly IReadOnlyList<MigProfile> A100 = SimulatedMigProfiles.For(SimulatedMigModel.A100_40GB);
    private readonly FakeGpuBackend _gpus = new(Path.GetTempPath(), 2);
    private readonly MigDeviceRenderer _renderer = new(new SliceDeviceRenderer(new PciTopology("/nonexistent")));

    [Fact]
    public void Every_placement_of_an_A100_40GB_has_nvidia_s_name()
    {
        var gpu = _gpus.Devices[1]; // minor 1: names carry the minor, not the index
        var names = A100.SelectMany(p => p.Placements.Select(pl => _renderer.Placement(gpu, p, pl, []).Name)).ToList();

        string[] expected =
        [
            .. Enumerable.Range(0, 7).Select(s => $"gpu-1-mig-1g5gb-19-{s}"),
            .. Enumerable.Range(0, 7).Select(s => $"gpu-1-mig-1g5gb-me-20-{s}"),
            "gpu-1-mig-1g10gb-15-0", "gpu-1-mig-1g10gb-15-2", "gpu-1-mig-1g10gb-15-4", "gpu-1-mig-1g10gb-15-6",
            "gpu-1-mig-2g10gb-14-0", "gpu-1-mig-2g10gb-14-2", "gpu-1-mig-2g10gb-14-4",
            "gpu-1-mig-3g20gb-9-0", "gpu-1-mig-3g20gb-9-4",
            "gpu-1-mig-4g20gb-5-0",
            "gpu-1-mig-7g40gb-0-0",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
        Assert.All(names, n => Assert.True(n.Length <= 63 && n.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'), n));
    }

    [Fact]
    public void Counter_set_holds_the_largest_capacity_of_each_kind_and_one_counter_per_memory_slice()
    {
        var set = MigDeviceRenderer.CounterSet(_gpus.Devices[0], A100);

        Assert.Equal("gpu-0-counter-set", set.Name);
        var expected = new Dictionary<string, string>
        {
            ["multiprocessors"] = "98", ["copy-engines"] = "7", ["decoders"] = "5", ["encoders"] = "0", ["jpeg-engines"] = "1", ["ofa-engines"] = "1",
            ["memory"] = "40192Mi",
            ["memory-slice-0"] = "1", ["memory-slice-1"] = "1", ["memory-slice-2"] = "1", ["memory-slice-3"] = "1",
            ["memory-slice-4"] = "1", ["memory-slice-5"] = "1", ["memory-slice-6"] = "1", ["memory-slice-7"] = "1",
        };
        Assert.Equal(expected.OrderBy(k => k.Key), set.Counters.OrderBy(k => k.Key));
    }

    [Fact]
    public void A_placement_consumes_its_capacities_and_exactly_its_memory_slices_and_has_no_uuid()
    {
        var gpu = _gpus.Devices[0];
        var profile = A100.Single(p => p.Id == 9); // 3g.20gb
        var device = _renderer.Placement(gpu, profile, new MigPlacement(4, 4), []);

        Assert.Equal("gpu-0-mig-3g20gb-9-4", device.Name);
        Assert.Equal(DeviceAttributeValue.Of("mig"), device.Attributes["type"]);
        Assert.Equal(DeviceAttributeValue.Of("3g.20gb"), device.Attributes["profile"]);
        Assert.Equal(DeviceAttributeValue.Of(gpu.Uuid), device.Attributes["parentUUID"]);
        Assert.Equal(DeviceAttributeValue.Of(gpu.ProductName), device.Attributes["productName"]);
        Assert.Equal(DeviceAttributeValue.Of(gpu.Architecture), device.Attributes["architecture"]);
        Assert.Equal(DeviceAttributeValue.SemVer("535.261.3"), device.Attributes["driverVersion"]);
        Assert.Equal(DeviceAttributeValue.Of("0000:10:00.0"), device.Attributes[SliceDeviceRenderer.PciBusIdAttribute]);
        Assert.False(device.Attributes.ContainsKey("uuid"));
        Assert.Equal(
            new Dictionary<string, string> { ["multiprocessors"] = "42", ["copyEngines"] = "3", ["decoders"] = "2", ["encoders"] = "0", ["jpegEngines"] = "0", ["ofaEngines"] = "0", ["memory"] = "19968Mi" }.OrderBy(k => k.Key),
            device.Capacity.OrderBy(k => k.Key));

        var consumption = Assert.Single(device.ConsumesCounters!);
        Assert.Equal("gpu-0-counter-set", consumption.CounterSet);
        Assert.Equal(["memory-slice-4", "memory-slice-5", "memory-slice-6", "memory-slice-7"], consumption.Counters.Keys.Where(k => k.StartsWith("memory-slice-", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal("42", consumption.Counters["multiprocessors"]);
        Assert.Equal("3", consumption.Counters["copy-engines"]);
        Assert.True(device.Attributes.Count + device.Capacity.Count <= 32);
    }

    [Fact]
    public void The_whole_gpu_consumes_every_counter_of_its_set()
    {
        var gpu = _gpus.Devices[0];
        var whole = _renderer.WholeGpu(gpu, A100, []);
        var set = MigDeviceRenderer.CounterSet(gpu, A100);

        Assert.Equal("gpu-0", whole.Name);
        Assert.Equal(DeviceAttributeValue.Of("gpu"), whole.Attributes["type"]);
        var consumption = Assert.Single(whole.ConsumesCounters!);
        Assert.Equal(set.Name, consumption.CounterSet);
        Assert.Equal(set.Counters.OrderBy(k => k.Key), consumption.Counters.OrderBy(k => k.Key));
    }

    [Fact]
    public void A_static_instance_carries_its_mig_uuid_and_memory_slices_as_capacities()
    {
        var gpu = _gpus.Devices[0];
        var profile = A100.Single(p => p.Id == 14); // 2g.10gb
        var device = _renderer.StaticInstance(gpu, new MigInstanceInfo("MIG-11111111-2222-3333-4444-555555555555", profile, new MigPlacement(2, 2), 3, 0), []);

        Assert.Equal("gpu-0-mig-2g10gb-14-2", device.Name);
        Assert.Equal(DeviceAttributeValue.Of("MIG-11111111-2222-3333-4444-555555555555"), device.Attributes["uuid"]);
        Assert.Equal(DeviceAttributeValue.Of(gpu.Uuid), device.Attributes["parentUUID"]);
        Assert.Equal("1", device.Capacity["memorySlice2"]);
        Assert.Equal("1", device.Capacity["memorySlice3"]);
        Assert.False(device.Capacity.ContainsKey("memorySlice4"));
        Assert.Null(device.ConsumesCounters);
    }

    [Theory]
    [InlineData("1g.10gb+me", "1g10gb-me")]
    [InlineData("7g.80gb", "7g80gb")]
    [InlineData("1g.20gb", "1g20gb")]
    public void Profile_names_become_dns_labels_as_nvidia_s_driver_makes_them(string profile, string token) =>
        Assert.Equal(token, MigDeviceNames.ProfileToken(profile));

    [Theory]
    [InlineData("copyEngines", "copy-engines")]
    [InlineData("jpegEngines", "jpeg-engines")]
    [InlineData("multiprocessors", "multiprocessors")]
    public void Capacity_names_become_counter_names(string capacity, string counter) =>
        Assert.Equal(counter, MigDeviceNames.CounterFor(capacity));
}
