namespace SecureDra.KubeletPlugin.Claims;

/// <summary>
/// One device handed to the runtime for a claim. <see cref="RequestNames"/> are base request
/// names (subrequest suffixes stripped); the device-specific CDI ID comes first in
/// <see cref="CdiDeviceIds"/> because the kubelet keys device health by the first entry.
/// </summary>
public sealed record PreparedDevice(
    IReadOnlyList<string> RequestNames,
    string PoolName,
    string DeviceName,
    IReadOnlyList<string> CdiDeviceIds,
    string? ShareId = null);
