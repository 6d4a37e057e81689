using System.Globalization;
using System.Runtime.CompilerServices;
using SecureDra.Nvml.Backends;

namespace SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

/// <summary>N GPUs whose "VRAM" is a small temp file each (<see cref="VramPath"/>), which <see cref="FakeScrubber"/> zeroes.</summary>
public sealed class FakeGpuBackend(string vramDirectory, int count) : IGpuBackend
{
    public const int VramBytes = 4096;

    public string Kind => "fake";

    public IReadOnlyList<GpuDevice> Devices { get; } = [.. Enumerable.Range(0, count).Select(i => new GpuDevice(
        $"gpu-{i}",
        i,
        $"GPU-{i:x8}-0000-0000-0000-000000000000",
        "NVIDIA H100 80GB HBM3",
        "Nvidia",
        "Hopper",
        "9.0",
        "535.261.03",
        "12.2",
        string.Create(CultureInfo.InvariantCulture, $"00000000:{(0x10 + i):X2}:00.0"),
        i,
        80L * 1024 * 1024 * 1024,
        [$"/dev/nvidia{i}"]))];

    public string VramPath(string deviceName) => Path.Combine(vramDirectory, deviceName + ".vram");

    public void WriteCanary(string deviceName)
    {
        var bytes = new byte[VramBytes];
        Array.Fill(bytes, (byte)0xCA);
        WriteVram(deviceName, bytes);
    }

    /// <summary>
    /// Replaces a device's "VRAM" in one step (a whole new file renamed over the old one). Real VRAM is never seen half
    /// zeroed by a tenant, and the tests read these files while the product's background scrub retry rewrites them: an
    /// in-place rewrite (truncate, then write) let a concurrent File.ReadAllBytes see the file shrink under it and throw
    /// EndOfStreamException (the proxy lifecycle soak, seed 9Zn6rRnARjCo), or read an empty file as "no canary".
    /// </summary>
    public void WriteVram(string deviceName, byte[] bytes)
    {
        var (temp, path) = PrepareReplace(deviceName);
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    /// <inheritdoc cref="WriteVram"/>
    public async Task WriteVramAsync(string deviceName, byte[] bytes, CancellationToken cancellationToken)
    {
        var (temp, path) = PrepareReplace(deviceName);
        await File.WriteAllBytesAsync(temp, bytes, cancellationToken);
        File.Move(temp, path, overwrite: true);
    }

    private (string Temp, string Path) PrepareReplace(string deviceName)
    {
        Directory.CreateDirectory(vramDirectory);
        var path = VramPath(deviceName);
        return (path + "." + Guid.NewGuid().ToString("N") + ".tmp", path);
    }

    /// <summary>Devices whose MIG mode is enabled or pending; enumeration reports them with <see cref="GpuDevice.MigEnabled"/>.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, bool> MigMode { get; } = new(StringComparer.Ordinal);

    /// <summary>How many times the devices were enumerated (each a round of NVML calls on a real node).</summary>
    public int Enumerations => Volatile.Read(ref _enumerations);

    private int _enumerations;

    public Task<IReadOnlyList<GpuDevice>> EnumerateAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _enumerations);
        return Task.FromResult<IReadOnlyList<GpuDevice>>([.. Devices.Select(d => MigMode.TryGetValue(d.Name, out var on) && on ? d with { MigEnabled = true } : d)]);
    }

    public bool HoldsCanary(string deviceName) =>
        File.Exists(VramPath(deviceName)) && File.ReadAllBytes(VramPath(deviceName)).Contains((byte)0xCA);

    public Task<IReadOnlyList<GpuProcess>> GetRunningProcessesAsync(GpuDevice device, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<GpuProcess>>([]);

    public async IAsyncEnumerable<GpuHealthEvent> WatchHealthAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask;
        yield break;
    }

    public Task<IDeviceMemorySession> OpenMemorySessionAsync(GpuDevice device, CancellationToken cancellationToken) => throw new NotSupportedException();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
