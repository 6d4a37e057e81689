using System.Globalization;
using SecureDra.Kube.Resources;
using SecureDra.Nvml.Backends;

using SecureDra.Nvml.Backends.Mig;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// Renders MIG devices with NVIDIA's names and attributes (dra-driver-nvidia-gpu mig.go,
/// partitions.go, deviceinfo.go), so selectors written for it match: <c>type=mig</c>,
/// <c>parentUUID</c>, <c>profile</c> and the parent's product, architecture, versions and PCI
/// attributes; capacities multiprocessors, copyEngines, decoders, encoders, jpegEngines,
/// ofaEngines, memory. Dynamic placements carry no <c>uuid</c> (the instance does not exist until
/// Prepare); static instances do. It renders, it never decides what is offered.
/// </summary>
public sealed class MigDeviceRenderer(SliceDeviceRenderer gpuRenderer)
{
    private static readonly string[] ParentAttributes =
    [
        "productName", "brand", "architecture", "cudaComputeCapability", "driverVersion", "cudaDriverVersion",
        SliceDeviceRenderer.PciBusIdAttribute, SliceDeviceRenderer.PcieRootAttribute,
        // The node's CC state applies to every instance of the GPU as much as to the GPU.
        ConfidentialComputeAttributes.Enabled, ConfidentialComputeAttributes.DevToolsMode, ConfidentialComputeAttributes.Ready,
    ];

    /// <summary>The GPU's counter set: the largest value of each capacity over its profiles, and one counter per memory slice.</summary>
    public static CounterSet CounterSet(GpuDevice gpu, IReadOnlyList<MigProfile> profiles)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        return new CounterSet(MigDeviceNames.CounterSet(gpu.Minor), Counters(MaxCapacities(profiles), 0, MigDeviceNames.MemorySlices));
    }

    /// <summary>
    /// The whole GPU as a partitionable device: it consumes every counter, so allocating it takes
    /// every placement and allocating any placement takes it (KEP 4815).
    /// </summary>
    public SliceDevice WholeGpu(GpuDevice gpu, IReadOnlyList<MigProfile> profiles, IReadOnlyList<DeviceTaint> taints)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        var device = gpuRenderer.RenderDevice(gpu, taints);
        var max = MaxCapacities(profiles);
        return device with
        {
            Capacity = Capacities(max),
            ConsumesCounters = [new CounterConsumption(MigDeviceNames.CounterSet(gpu.Minor), Counters(max, 0, MigDeviceNames.MemorySlices))],
        };
    }

    /// <summary>One possible placement of one profile (dynamic mode): consumes its capacities and its memory slices.</summary>
    public SliceDevice Placement(GpuDevice gpu, MigProfile profile, MigPlacement placement, IReadOnlyList<DeviceTaint> taints)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        ArgumentNullException.ThrowIfNull(profile);
        var capacities = ProfileCapacities(profile);
        return new SliceDevice(
            MigDeviceNames.Placement(gpu.Minor, profile, placement),
            MigAttributes(gpu, profile.Name),
            Capacities(capacities),
            taints,
            [new CounterConsumption(MigDeviceNames.CounterSet(gpu.Minor), Counters(capacities, placement.Start, placement.Size))]);
    }

    /// <summary>An instance an administrator created (static mode): NVIDIA's static MIG device, with its MIG UUID and its memory slices as capacities.</summary>
    public SliceDevice StaticInstance(GpuDevice gpu, MigInstanceInfo instance, IReadOnlyList<DeviceTaint> taints)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        ArgumentNullException.ThrowIfNull(instance);
        var attributes = MigAttributes(gpu, instance.Profile.Name);
        if (instance.MigUuid.Length <= 64)
        {
            attributes["uuid"] = DeviceAttributeValue.Of(instance.MigUuid);
        }

        var capacity = Capacities(ProfileCapacities(instance.Profile));
        for (var i = instance.Placement.Start; i < instance.Placement.End; i++)
        {
            capacity[string.Create(CultureInfo.InvariantCulture, $"memorySlice{i}")] = "1";
        }

        return new SliceDevice(MigDeviceNames.Placement(gpu.Minor, instance.Profile, instance.Placement), attributes, capacity, taints);
    }

    private Dictionary<string, DeviceAttributeValue> MigAttributes(GpuDevice gpu, string profileName)
    {
        var parent = gpuRenderer.RenderDevice(gpu, []).Attributes;
        var attributes = new Dictionary<string, DeviceAttributeValue>(StringComparer.Ordinal)
        {
            ["type"] = DeviceAttributeValue.Of("mig"),
            ["profile"] = DeviceAttributeValue.Of(profileName),
        };
        if (parent.TryGetValue("uuid", out var uuid))
        {
            attributes["parentUUID"] = uuid;
        }

        foreach (var name in ParentAttributes)
        {
            if (parent.TryGetValue(name, out var value))
            {
                attributes[name] = value;
            }
        }

        return attributes;
    }

    private static List<(string Name, long Value)> ProfileCapacities(MigProfile p) =>
    [
        ("multiprocessors", p.Capacities.Multiprocessors), ("copyEngines", p.Capacities.CopyEngines), ("decoders", p.Capacities.Decoders),
        ("encoders", p.Capacities.Encoders), ("jpegEngines", p.Capacities.JpegEngines), ("ofaEngines", p.Capacities.OfaEngines),
        ("memory", p.MemoryMiB * 1024 * 1024),
    ];

    private static List<(string Name, long Value)> MaxCapacities(IReadOnlyList<MigProfile> profiles)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        if (profiles.Count == 0)
        {
            throw new ArgumentException("a partitionable GPU needs at least one MIG profile", nameof(profiles));
        }

        var all = profiles.Select(ProfileCapacities).ToList();
        return [.. all[0].Select((c, i) => (c.Name, all.Max(p => p[i].Value)))];
    }

    private static Dictionary<string, string> Capacities(List<(string Name, long Value)> capacities) =>
        capacities.ToDictionary(c => c.Name, c => Quantity(c.Name, c.Value), StringComparer.Ordinal);

    private static Dictionary<string, string> Counters(List<(string Name, long Value)> capacities, int firstSlice, int slices)
    {
        var counters = capacities.ToDictionary(c => MigDeviceNames.CounterFor(c.Name), c => Quantity(c.Name, c.Value), StringComparer.Ordinal);
        for (var i = firstSlice; i < firstSlice + slices; i++)
        {
            counters[MigDeviceNames.MemorySliceCounter(i)] = "1";
        }

        return counters;
    }

    private static string Quantity(string name, long value) =>
        name == "memory" ? SliceDeviceRenderer.Quantity(value) : value.ToString(CultureInfo.InvariantCulture);
}
