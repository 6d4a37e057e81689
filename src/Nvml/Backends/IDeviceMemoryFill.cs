namespace SecureDra.Nvml.Backends;

/// <summary>
/// Writing a pattern into device memory: what the VRAM canary leaves behind so that the next run on the
/// same GPU proves the release in between was scrubbed. Separate from <see cref="IDeviceMemorySession"/>
/// because the scrubber never writes anything but zeros; both real sessions implement it.
/// </summary>
public interface IDeviceMemoryFill
{
    /// <summary>Sets every 32-bit word of the allocation to <paramref name="pattern"/> (little-endian; a tail shorter than a word gets its low byte).</summary>
    void Fill(IDeviceAllocation allocation, uint pattern);
}
