using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.KubeletPlugin.Tests.Mig;

/// <summary>Writes and checks the bytes of one MIG placement inside a simulated GPU's VRAM file (the tests' tenant and canary).</summary>
internal static class MigVram
{
    /// <summary>One simulated GPU (gpu-0) of <paramref name="memory"/> bytes in MIG mode, its VRAM file created in <paramref name="dir"/>.</summary>
    public static SimulatedMigBackend CreateGpu(string dir, long memory)
    {
        Directory.CreateDirectory(dir);
        using (var vram = new FileStream(Path.Combine(dir, "gpu-0.vram"), FileMode.Create))
        {
            vram.SetLength(memory);
        }

        SimulatedFaultFile.Write(dir, "gpu-0", new SimulatedFaults { MigEnabled = true });
        return new SimulatedMigBackend(new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = memory, VramDirectory = dir, FaultFiles = true });
    }

    public static void Fill(SimulatedMigBackend sim, string vramPath, MigPlacement placement, byte value)
    {
        var (offset, length) = sim.ByteRange(placement);
        using var stream = new FileStream(vramPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        stream.Position = offset;
        var bytes = new byte[length];
        Array.Fill(bytes, value);
        stream.Write(bytes);
    }

    public static void AssertBytes(SimulatedMigBackend sim, string vramPath, MigPlacement placement, byte value)
    {
        var (offset, length) = sim.ByteRange(placement);
        var bytes = File.ReadAllBytes(vramPath).AsSpan((int)offset, (int)length);
        var bad = bytes.IndexOfAnyExcept(value);
        Assert.True(bad < 0, $"slices {placement.Start}+{placement.Size}: byte {bad} is not 0x{value:X2}");
    }
}
