using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.KubeletPlugin.Tests.Mig;

/// <summary>
/// Zeroes and verifies one simulated MIG instance through the simulated backend's instance memory session (the view
/// the scrub-worker child gets), in-process: the pipeline tests' stand-in for <see cref="MigInstanceScrubber"/>,
/// whose child process needs the CLI build (tests/Cli.Tests/MigScrubWorkerTests covers it). Honours the
/// migFailVerifySlice fault (a stuck cell inside the instance fails the verify).
/// </summary>
public sealed class InProcessMigInstanceScrubber(SimulatedMigBackend simulated) : IMigInstanceScrubber
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public List<string> Scrubbed { get; } = [];

    public async Task<MigScrubResult> ScrubAsync(GpuDevice parent, MigInstance instance, ScrubTrigger trigger, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        lock (Scrubbed)
        {
            Scrubbed.Add(instance.Uuid!);
        }

        await using var session = simulated.OpenInstanceMemorySession(parent, instance);
        var (_, total) = session.GetMemoryInfo();
        using var allocation = session.TryAllocate(total) ?? throw new InvalidOperationException("could not allocate the instance's memory");
        session.Zero(allocation);
        session.Synchronize();
        var verified = session.VerifyZero(allocation);
        return new MigScrubResult(parent.Name, instance.GpuInstanceId, instance.Uuid!, verified, verified, instance.MemoryBytes,
            verified ? allocation.Bytes : 0, verified ? (double)allocation.Bytes / instance.MemoryBytes : 0, TimeSpan.Zero, session.Method,
            verified ? null : "verify found non-zero bytes in the instance's memory");
    }
}
