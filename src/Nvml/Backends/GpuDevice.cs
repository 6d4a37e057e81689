namespace SecureDra.Nvml.Backends;

/// <summary>
/// One physical GPU as the rest of the product sees it. <see cref="Name"/> is the device name
/// published in ResourceSlices (<c>gpu-0</c>, <c>gpu-1</c>, …) and is stable for a node.
/// </summary>
public sealed record GpuDevice(
    string Name,
    int Index,
    string Uuid,
    string ProductName,
    string Brand,
    string Architecture,
    string CudaComputeCapability,
    string DriverVersion,
    string CudaDriverVersion,
    string? PciBusId,
    int Minor,
    long MemoryBytes,
    IReadOnlyList<string> DeviceNodePaths)
{
    /// <summary>True when MIG mode is enabled or pending (NVIDIA: nvmlDeviceGetMigMode; simulated: the fault file's migEnabled/migPending).</summary>
    public bool MigEnabled { get; init; }
}
