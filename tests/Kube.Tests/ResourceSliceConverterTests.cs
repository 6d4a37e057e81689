using System.Text.Json.Nodes;
using SecureDra.Kube.Resources;

namespace SecureDra.Kube.Tests;

public sealed class ResourceSliceConverterTests
{
    internal static ResourceSliceModel SampleSlice() => new(
        Name: null,
        ResourceVersion: null,
        Driver: "gpu.nvidia.com",
        NodeName: "node-a",
        PoolName: "node-a",
        PoolGeneration: 3,
        ResourceSliceCount: 1,
        Devices:
        [
            new SliceDevice(
                "gpu-0",
                new Dictionary<string, DeviceAttributeValue>
                {
                    ["type"] = DeviceAttributeValue.Of("gpu"),
                    ["index"] = DeviceAttributeValue.Of(0L),
                    ["productName"] = DeviceAttributeValue.Of("NVIDIA H100 80GB HBM3"),
                    ["driverVersion"] = DeviceAttributeValue.SemVer("550.54.15"),
                    ["resource.kubernetes.io/pcieRoot"] = DeviceAttributeValue.Of("pci0000:00"),
                    ["vfio"] = DeviceAttributeValue.Of(false),
                },
                new Dictionary<string, string> { ["memory"] = "80Gi" },
                []),
            new SliceDevice(
                "gpu-1",
                new Dictionary<string, DeviceAttributeValue> { ["index"] = DeviceAttributeValue.Of(1L) },
                new Dictionary<string, string> { ["memory"] = "80Gi" },
                [new DeviceTaint("securedra.io/scrub-failed", "true", "NoSchedule", new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero))]),
        ],
        Owner: new OwnerReference("v1", "Node", "node-a", "6a1c0f9e-0000-4000-8000-000000000001", true),
        GenerateName: "node-a-gpu.nvidia.com-");

    public static TheoryData<ResourceApiVersion, string> Versions => new()
    {
        { ResourceApiVersion.V1, "slice-v1.json" },
        { ResourceApiVersion.V1Beta2, "slice-v1beta2.json" },
        { ResourceApiVersion.V1Beta1, "slice-v1beta1.json" },
    };

    [Theory]
    [MemberData(nameof(Versions))]
    public void Model_to_wire_matches_the_golden_shape(ResourceApiVersion version, string golden) =>
        Golden.AssertJsonEqual(Golden.Object(golden), ResourceSliceConverter.ToJson(SampleSlice(), version));

    [Theory]
    [MemberData(nameof(Versions))]
    public void Wire_to_model_and_back_round_trips(ResourceApiVersion version, string golden)
    {
        var model = ResourceSliceConverter.FromJson(Golden.Object(golden));

        Assert.Equal("gpu.nvidia.com", model.Driver);
        Assert.Equal(3, model.PoolGeneration);
        Assert.Equal(1, model.ResourceSliceCount);
        Assert.Equal("node-a", model.NodeName);
        Assert.Equal("node-a-gpu.nvidia.com-", model.GenerateName);
        Assert.Equal(new OwnerReference("v1", "Node", "node-a", "6a1c0f9e-0000-4000-8000-000000000001", true), model.Owner);
        Assert.Equal(DeviceAttributeValue.SemVer("550.54.15"), model.Devices[0].Attributes["driverVersion"]);
        Assert.Equal(DeviceAttributeValue.Of(0L), model.Devices[0].Attributes["index"]);
        Assert.Equal("80Gi", model.Devices[1].Capacity["memory"]);
        Assert.Equal("NoSchedule", Assert.Single(model.Devices[1].Taints).Effect);
        Golden.AssertJsonEqual(Golden.Object(golden), ResourceSliceConverter.ToJson(model, version));
    }

    [Theory]
    [InlineData(ResourceApiVersion.V1, "spec.devices[0].consumesCounters")]
    [InlineData(ResourceApiVersion.V1Beta2, "spec.devices[0].consumesCounters")]
    [InlineData(ResourceApiVersion.V1Beta1, "spec.devices[0].basic.consumesCounters")]
    public void Counter_sets_and_consumed_counters_round_trip_in_each_version(ResourceApiVersion version, string consumesPath)
    {
        var counters = new Dictionary<string, string> { ["memory"] = "40192Mi", ["memory-slice-0"] = "1" };
        var slice = SampleSlice() with
        {
            Devices = [SampleSlice().Devices[0] with { ConsumesCounters = [new CounterConsumption("gpu-0-counter-set", counters)] }],
            SharedCounters = [new CounterSet("gpu-0-counter-set", counters)],
        };

        var json = ResourceSliceConverter.ToJson(slice, version);
        Assert.Equal("gpu-0-counter-set", json["spec"]!["sharedCounters"]![0]!["name"]!.GetValue<string>());
        Assert.Equal("40192Mi", json["spec"]!["sharedCounters"]![0]!["counters"]!["memory"]!["value"]!.GetValue<string>());
        var device = json["spec"]!["devices"]![0]!;
        var consumes = version == ResourceApiVersion.V1Beta1 ? device["basic"]!["consumesCounters"] : device["consumesCounters"];
        Assert.NotNull(consumes);
        Assert.EndsWith("consumesCounters", consumesPath, StringComparison.Ordinal);
        Assert.Equal("1", consumes![0]!["counters"]!["memory-slice-0"]!["value"]!.GetValue<string>());

        var back = ResourceSliceConverter.FromJson(json);
        var set = Assert.Single(back.SharedCounters!);
        Assert.Equal(counters.OrderBy(c => c.Key), set.Counters.OrderBy(c => c.Key));
        var consumption = Assert.Single(back.Devices[0].ConsumesCounters!);
        Assert.Equal("gpu-0-counter-set", consumption.CounterSet);
        Assert.Equal(counters.OrderBy(c => c.Key), consumption.Counters.OrderBy(c => c.Key));
    }

    [Fact]
    public void A_counter_without_a_value_object_is_rejected_with_its_path()
    {
        var json = ResourceSliceConverter.ToJson(SampleSlice() with { SharedCounters = [new CounterSet("s", new Dictionary<string, string> { ["memory"] = "1" })] }, ResourceApiVersion.V1);
        json["spec"]!["sharedCounters"]![0]!["counters"]!["memory"] = "1";

        var ex = Assert.Throws<KubeObjectFormatException>(() => ResourceSliceConverter.FromJson(json));
        Assert.Contains("spec.sharedCounters[0].counters[memory]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Server_fields_are_read_back()
    {
        var json = Golden.Object("slice-v1.json");
        json["metadata"]!["name"] = "node-a-gpu.nvidia.com-x7k2p";
        json["metadata"]!["resourceVersion"] = "981";

        var model = ResourceSliceConverter.FromJson(json);

        Assert.Equal("node-a-gpu.nvidia.com-x7k2p", model.Name);
        Assert.Equal("981", model.ResourceVersion);
        Assert.Equal("981", (string?)ResourceSliceConverter.ToJson(model, ResourceApiVersion.V1)["metadata"]!["resourceVersion"]);
    }

    [Fact]
    public void Basic_in_a_v1_slice_is_rejected_with_its_path()
    {
        var json = Golden.Object("slice-v1beta1.json");
        json["apiVersion"] = "resource.k8s.io/v1";

        var ex = Assert.Throws<KubeObjectFormatException>(() => ResourceSliceConverter.FromJson(json));

        Assert.Equal("spec.devices[0].basic", ex.Field);
    }

    [Fact]
    public void Flat_device_in_a_v1beta1_slice_is_rejected()
    {
        var json = Golden.Object("slice-v1.json");
        json["apiVersion"] = "resource.k8s.io/v1beta1";

        Assert.Equal("spec.devices[0].basic", Assert.Throws<KubeObjectFormatException>(() => ResourceSliceConverter.FromJson(json)).Field);
    }

    [Fact]
    public void Attribute_with_two_types_is_rejected()
    {
        var json = Golden.Object("slice-v1.json");
        json["spec"]!["devices"]![0]!["attributes"]!["index"] = new JsonObject { ["int"] = 1, ["string"] = "1" };

        var ex = Assert.Throws<KubeObjectFormatException>(() => ResourceSliceConverter.FromJson(json));

        Assert.Contains("spec.devices[0].attributes[index]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Model_attribute_with_no_value_is_refused_on_write()
    {
        var slice = SampleSlice() with
        {
            Devices = [new SliceDevice("gpu-0", new Dictionary<string, DeviceAttributeValue> { ["x"] = new() }, new Dictionary<string, string>(), [])],
        };

        Assert.Throws<ArgumentException>(() => ResourceSliceConverter.ToJson(slice, ResourceApiVersion.V1));
    }
}
