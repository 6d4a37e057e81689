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

/// <summary>Zeroes the fake VRAM file and reads it back; or misbehaves as queued per device.</summary>
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

    public async Task<ScrubReport> ScrubAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
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
                await backend.WriteVramAsync(device.Name, new byte[FakeGpuBackend.VramBytes], cancellationToken);
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
