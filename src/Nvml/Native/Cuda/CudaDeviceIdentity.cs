namespace SecureDra.Nvml.Native.Cuda;

/// <summary>
/// What CUDA itself says a device is, for the scrub worker's "exactly the expected instance" check: under
/// <c>CUDA_VISIBLE_DEVICES=MIG-&lt;uuid&gt;</c> CUDA enumerates one device whose cuDeviceGetUuid_v2 is the MIG UUID.
/// </summary>
public static unsafe class CudaDeviceIdentity
{
    public static CudaResult GetUuidRaw(int device, out string uuid, string prefix)
    {
        CudaUuid raw = default;
        var p = &raw;
        var r = CudaDriver.Guard(() => CudaNative.DeviceGetUuidV2(p, device), "cuDeviceGetUuid_v2");
        uuid = r == CudaResult.Success ? Format(new ReadOnlySpan<byte>(raw.Bytes, 16), prefix) : "";
        return r;
    }

    /// <summary>The device's UUID as NVML spells it: <paramref name="prefix"/> ("MIG-" or "GPU-") and 8-4-4-4-12 lower-case hex.</summary>
    public static string GetUuid(int device, string prefix)
    {
        CudaDriver.Check(GetUuidRaw(device, out var uuid, prefix), "cuDeviceGetUuid_v2");
        return uuid;
    }

    public static string Format(ReadOnlySpan<byte> bytes, string prefix)
    {
        var hex = Convert.ToHexStringLower(bytes);
        return $"{prefix}{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..32]}";
    }
}
