namespace SecureDra.LocalCluster.Kubelet;

/// <summary>A claim as the kubelet names it in Prepare/Unprepare.</summary>
public sealed record KubeletClaim(string Namespace, string Name, string Uid);

/// <summary>One device of a Prepare answer, version-neutral (ShareId is v1 only).</summary>
public sealed record KubeletDevice(IReadOnlyList<string> RequestNames, string PoolName, string DeviceName, IReadOnlyList<string> CdiDeviceIds, string? ShareId);

/// <summary>One claim's Prepare answer: devices, or a non-empty error.</summary>
public sealed record KubeletPrepareResult(IReadOnlyList<KubeletDevice> Devices, string Error);
