using System.Collections.Concurrent;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

public enum ScrubBehavior
{
    Verify,
    NotVerified,
    Refuse,
    Throw,
    Hang,
}

/// <summary>
/// Zeroes the fake VRAM file and reads it back; or misbehaves as queued per device. It keeps the GPU layer's contract
/// (<see cref="IVramScrubber"/>): a backend exception (<see cref="ScrubBehavior.Throw"/>) or the caller's deadline
/// (<see cref="ScrubBehavior.Hang"/>) is a failed report with the verdict the real scrubber gives, never an exception.
/// </summary>
public sealed class FakeScrubber(FakeGpuBackend backend) : IVramScrubber
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<ScrubBehavior>> _plans = new(StringComparer.Ordinal);
    private int _calls;
    private int _concurrent;
    private int _maxConcurrent;

    public int Calls => Volatile.Read(ref _calls);
    public int MaxConcurrent => Volatile.Read(ref _maxConcurrent);

    /// <summary>Behavior used when nothing is queued for a device.</summary>
    public ScrubBehavior Default { get; set; } = ScrubBehavior.Verify;

    public TimeSpan Delay { get; set; } = TimeSpan.Zero;

    public void Plan(string deviceName, params ScrubBehavior[] behaviors)
    {
        var queue = _plans.GetOrAdd(deviceName, _ => new ConcurrentQueue<ScrubBehavior>());
        foreach (var b in behaviors)
        {
            queue.Enqueue(b);
        }
    }

    /// <summary>The trigger of every call, in order.</summary>
    public ConcurrentQueue<ScrubTrigger> Triggers { get; } = new();

    public async Task<ScrubReport> ScrubAsync(GpuDevice device, ScrubTrigger trigger, CancellationToken cancellationToken)
    {
        try
        {
            return await ScrubOrThrowAsync(device, trigger, cancellationToken);
        }
        catch (GpuBackendException e)
        {
            return Failed(device, $"scrub failed: {e.GetType().Name}: {e.Message}", ScrubVerdict.Error);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Failed(device, "scrub timed out", ScrubVerdict.Timeout);
        }
    }

    private static ScrubReport Failed(GpuDevice device, string reason, ScrubVerdict kind) => new()
    {
        DeviceName = device.Name,
        DeviceUuid = device.Uuid,
        Method = "file-zero+readback",
        TotalBytes = FakeGpuBackend.VramBytes,
        FailureReason = reason,
        FailureKind = kind,
    };

    private async Task<ScrubReport> ScrubOrThrowAsync(GpuDevice device, ScrubTrigger trigger, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        Triggers.Enqueue(trigger);
        var now = Interlocked.Increment(ref _concurrent);
        int seen;
        while (now > (seen = Volatile.Read(ref _maxConcurrent)) && Interlocked.CompareExchange(ref _maxConcurrent, now, seen) != seen)
        {
        }

        try
        {
            var behavior = _plans.TryGetValue(device.Name, out var q) && q.TryDequeue(out var b) ? b : Default;
            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay, cancellationToken);
            }

            switch (behavior)
            {
                case ScrubBehavior.Refuse:
                    return new ScrubReport
                    {
                        DeviceName = device.Name,
                        DeviceUuid = device.Uuid,
                        Method = "file-zero+readback",
                        TotalBytes = FakeGpuBackend.VramBytes,
                        FailureReason = $"refusing to scrub {device.Name}: 1 compute process(es) still running (pids 4242)",
                        BlockingProcesses = [new GpuProcess(4242, 1024)],
                    };
                case ScrubBehavior.Throw:
                    throw new GpuBackendException("injected: CUDA_ERROR_ILLEGAL_ADDRESS");
                case ScrubBehavior.Hang:
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                    break;
            }

            var path = backend.VramPath(device.Name);
            var verified = behavior == ScrubBehavior.Verify;
            if (File.Exists(path) && verified)
            {
                if (new FileInfo(path).LinkTarget is not null)
                {
                    // The whole file: the MIG lifecycle model backs a GPU with a larger file (through a symbolic link) shared with its simulated instances.
                    long length;
                    using (var current = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
                    {
                        length = current.Length;
                    }

                    await File.WriteAllBytesAsync(path, new byte[Math.Max(FakeGpuBackend.VramBytes, length)], cancellationToken);
                }
                else
                {
                    // A plain per-GPU file is replaced atomically, so that a model reading it concurrently never sees it half written.
                    await backend.WriteVramAsync(device.Name, new byte[FakeGpuBackend.VramBytes], cancellationToken);
                }
                verified = (await File.ReadAllBytesAsync(path, cancellationToken)).All(x => x == 0);
            }

            return new ScrubReport
            {
                DeviceName = device.Name,
                DeviceUuid = device.Uuid,
                Method = "file-zero+readback",
                TotalBytes = FakeGpuBackend.VramBytes,
                FreeBytesBefore = FakeGpuBackend.VramBytes,
                BytesZeroed = verified ? FakeGpuBackend.VramBytes : 0,
                Coverage = verified ? 1.0 : 0.0,
                Timings = new ScrubTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1), TimeSpan.Zero, TimeSpan.FromMilliseconds(2)),
                Verified = verified,
                FailureReason = verified ? null : "injected: readback found non-zero bytes",
            };
        }
        finally
        {
            Interlocked.Decrement(ref _concurrent);
        }
    }
}
