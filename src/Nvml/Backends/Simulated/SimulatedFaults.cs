namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>
/// Faults injected into one simulated GPU. Stored as <c>DIR/&lt;device&gt;.faults.json</c> (see
/// <see cref="SimulatedFaultFile"/>) and re-read on every operation, so a test can change them while
/// another process (a running <c>securedra kubelet-plugin</c>) uses the device. Every field is optional.
/// </summary>
public sealed record SimulatedFaults
{
    public static SimulatedFaults None { get; } = new();

    /// <summary>Compute processes that "still run": the scrubber must refuse.</summary>
    public IReadOnlyList<SimulatedProcess>? RunningProcesses { get; init; }

    /// <summary>Every allocation reports out-of-memory.</summary>
    public bool FailAllocations { get; init; }

    /// <summary>Only this fraction (0..1) of the memory can be allocated although all of it is reported free.</summary>
    public double? AllocatableFraction { get; init; }

    /// <summary>Each zero and verify operation takes this much longer (slow memory; drives deadline overruns).</summary>
    public int MemoryDelayMs { get; init; }

    /// <summary>A stuck byte survives zeroing, so the read-back verification finds a mismatch.</summary>
    public bool FailVerification { get; init; }

    /// <summary>Opening a memory session fails as if the device had fallen off the bus.</summary>
    public bool FailSession { get; init; }

    /// <summary>MIG mode is on: enumeration reports the GPU with <see cref="GpuDevice.MigEnabled"/> set.</summary>
    public bool MigEnabled { get; init; }

    /// <summary>MIG mode is pending (takes effect at the next GPU reset); reported like <see cref="MigEnabled"/>.</summary>
    public bool MigPending { get; init; }

    /// <summary>MIG model the device pretends to be: "H100-80GB" (default), "A100-40GB" or "A100-80GB" (see <see cref="SimulatedMigProfiles"/>).</summary>
    public string? MigModel { get; init; }

    /// <summary>Creating a GPU instance fails (NVML_ERROR_UNKNOWN) as a driver fault would.</summary>
    public bool MigFailCreate { get; init; }

    /// <summary>Destroying a compute or GPU instance answers IN_USE as if a process still held it.</summary>
    public bool MigDestroyInUse { get; init; }

    /// <summary>A stuck byte in this memory slice (0…7) survives zeroing: every scrub covering the slice fails verification.</summary>
    public int? MigFailVerifySlice { get; init; }

    /// <summary>
    /// Destroying a GPU instance zeroes its memory slices, as the open driver's scrub-on-free does. Off by default, so
    /// tests prove that SecureDra's own per-instance scrub clears the memory: nothing NVIDIA documents promises this.
    /// </summary>
    public bool MigDriverZeroesOnDestroy { get; init; }

    /// <summary>Health events to emit, in order; a watcher emits each entry once (appending emits the new ones).</summary>
    public IReadOnlyList<SimulatedHealthEventSpec>? HealthEvents { get; init; }
}
