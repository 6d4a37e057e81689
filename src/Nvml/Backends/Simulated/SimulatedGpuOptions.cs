namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>Shape of the simulated node: how many GPUs, how much "VRAM" each, and where the backing files live.</summary>
public sealed record SimulatedGpuOptions
{
    /// <summary>More than one full ResourceSlice (128 devices), so slice splitting can be exercised end to end.</summary>
    public const int MaxDeviceCount = 256;
    public const long MinMemoryBytes = 64 * 1024;
    public const long MaxMemoryBytes = 1L << 40;

    public int DeviceCount { get; init; } = 8;

    public long MemoryBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>
    /// The simulated driver's reservation: the last <c>ReservedBytes</c> of each device's memory are never
    /// handed to an allocation nor reported free, as a real GPU keeps memory for a CUDA context. A scrub
    /// cannot cover them; the scrubber measures them as the device's reserved baseline. Default 0.
    /// </summary>
    public long ReservedBytes { get; init; }

    /// <summary>Directory holding <c>&lt;device&gt;.vram</c> and <c>&lt;device&gt;.faults.json</c>.</summary>
    public string VramDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "securedra-simulated-vram");

    /// <summary>
    /// Failure injection: read <c>&lt;device&gt;.faults.json</c> (injected errors, compute processes, MIG mode, health
    /// events). Off by default, and the shipped securedra never turns it on: only tests, the demo's own scripted
    /// Xid and the test build of securedra do (docs/shipped-binary.md). Off, the files are never read.
    /// </summary>
    public bool FaultFiles { get; init; }

    /// <summary>How often the health watcher re-reads the fault files.</summary>
    public TimeSpan HealthPollInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Throws <see cref="ArgumentException"/> naming the field and its limit.</summary>
    public void Validate()
    {
        if (DeviceCount is < 1 or > MaxDeviceCount)
        {
            throw new ArgumentException($"simulated-gpus: must be between 1 and {MaxDeviceCount}, got {DeviceCount}");
        }

        if (MemoryBytes is < MinMemoryBytes or > MaxMemoryBytes || MemoryBytes % 4096 != 0)
        {
            throw new ArgumentException($"simulated-memory: must be a multiple of 4096 between {MinMemoryBytes} and {MaxMemoryBytes} bytes, got {MemoryBytes}");
        }

        if (ReservedBytes < 0 || ReservedBytes % 4096 != 0 || ReservedBytes >= MemoryBytes)
        {
            throw new ArgumentException($"simulated-reserved-memory: must be a multiple of 4096 below the device memory ({MemoryBytes} bytes), got {ReservedBytes}");
        }

        if (string.IsNullOrWhiteSpace(VramDirectory))
        {
            throw new ArgumentException("simulated-vram-dir: must not be empty");
        }

        if (HealthPollInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"health poll interval must be positive, got {HealthPollInterval}");
        }
    }
}
