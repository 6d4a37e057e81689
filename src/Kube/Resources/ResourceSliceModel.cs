namespace SecureDra.Kube.Resources;

/// <summary>
/// A node-local ResourceSlice, independent of the wire version it travels in. The converters in
/// this folder map it to and from v1 / v1beta2 (flat devices) and v1beta1 (devices[].basic).
/// </summary>
public sealed record ResourceSliceModel(
    string? Name,
    string? ResourceVersion,
    string Driver,
    string NodeName,
    string PoolName,
    long PoolGeneration,
    long ResourceSliceCount,
    IReadOnlyList<SliceDevice> Devices,
    OwnerReference? Owner = null,
    string? GenerateName = null,
    IReadOnlyList<CounterSet>? SharedCounters = null);

public sealed record SliceDevice(
    string Name,
    IReadOnlyDictionary<string, DeviceAttributeValue> Attributes,
    IReadOnlyDictionary<string, string> Capacity,
    IReadOnlyList<DeviceTaint> Taints,
    IReadOnlyList<CounterConsumption>? ConsumesCounters = null);

/// <summary>A slice's <c>sharedCounters[]</c> entry (partitionable devices): counter name → quantity.</summary>
public sealed record CounterSet(string Name, IReadOnlyDictionary<string, string> Counters);

/// <summary>A device's <c>consumesCounters[]</c> entry: what it takes from the named counter set while allocated.</summary>
public sealed record CounterConsumption(string CounterSet, IReadOnlyDictionary<string, string> Counters);

/// <summary>Exactly one of the four is set, as in the API.</summary>
public sealed record DeviceAttributeValue(string? String = null, long? Int = null, bool? Bool = null, string? Version = null)
{
    public static DeviceAttributeValue Of(string value) => new(String: value);
    public static DeviceAttributeValue Of(long value) => new(Int: value);
    public static DeviceAttributeValue Of(bool value) => new(Bool: value);
    public static DeviceAttributeValue SemVer(string value) => new(Version: value);
}

/// <summary>Effect is NoSchedule, NoExecute or None.</summary>
public sealed record DeviceTaint(string Key, string? Value, string Effect, DateTimeOffset? TimeAdded = null);

public sealed record OwnerReference(string ApiVersion, string Kind, string Name, string Uid, bool Controller);
