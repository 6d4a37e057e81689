namespace SecureDra.KubeletPlugin.Devices;

/// <summary>All devices at one inventory version; the slice publisher renders exactly this.</summary>
public sealed record InventorySnapshot(long Version, IReadOnlyList<DeviceStateSnapshot> Devices);
