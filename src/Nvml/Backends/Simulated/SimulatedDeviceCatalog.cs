using System.Security.Cryptography;
using System.Text;

namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>Deterministic identities of simulated GPUs: the same index always gives the same UUID and bus id.</summary>
public static class SimulatedDeviceCatalog
{
    public const string ProductName = "NVIDIA H100 80GB HBM3 (simulated)";
    public const string DriverVersion = "550.54.15";
    public const string CudaDriverVersion = "12.4.0";

    public static string DeviceName(int index) => $"gpu-{index}";

    public static string Uuid(int index)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"securedra-simulated-gpu/{index}"));
        var hex = Convert.ToHexStringLower(hash.AsSpan(0, 16));
        return $"GPU-{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..32]}";
    }

    public static string PciBusId(int index) => $"0000:{(0x18 + index) & 0xFF:X2}:00.0";

    public static GpuDevice Device(int index, long memoryBytes) => new(
        Name: DeviceName(index),
        Index: index,
        Uuid: Uuid(index),
        ProductName: ProductName,
        Brand: "NVIDIA",
        Architecture: "Hopper",
        CudaComputeCapability: "9.0",
        DriverVersion: DriverVersion,
        CudaDriverVersion: CudaDriverVersion,
        PciBusId: PciBusId(index),
        Minor: index,
        MemoryBytes: memoryBytes,
        DeviceNodePaths: [$"/dev/nvidia{index}"]);
}
