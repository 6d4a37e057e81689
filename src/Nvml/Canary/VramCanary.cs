using Microsoft.Extensions.Logging;
using SecureDra.Nvml.Backends;

namespace SecureDra.Nvml.Canary;

/// <summary>
/// The VRAM canary: allocates as much of one device's memory as it can (bounded by bytes and time),
/// checks that every byte reads back zero, and writes <see cref="CanaryOptions.MarkerPattern"/> into all
/// of it before it frees it. Run in a pod that holds one GPU claim, a pass proves the memory a tenant
/// receives is clean; the marker makes the next run on the same GPU prove that the release in between
/// was scrubbed. Uses the same backend and memory session as the scrubber (CUDA on NVIDIA, the mapped
/// VRAM file when simulated), and the scrubber's own on-device zero check.
/// </summary>
public sealed class VramCanary(IGpuBackend backend, TimeProvider time, ILogger<VramCanary> logger)
{
    public async Task<CanaryReport> RunAsync(GpuDevice device, CanaryOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var started = time.GetTimestamp();
        using var deadline = new CancellationTokenSource(options.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var token = linked.Token;

        // The deadline is also checked against the clock between steps: a timer callback can run late on a
        // starved thread pool, and the run must not outlive its bound because of that.
        void ThrowIfPastDeadline()
        {
            if (time.GetElapsedTime(started) >= options.Timeout)
            {
                deadline.Cancel();
            }

            token.ThrowIfCancellationRequested();
        }

        var method = "none";
        var allocations = new List<IDeviceAllocation>();
        long checkedBytes = 0, dirtyBytes = 0;
        int dirty = 0;
        var marker = false;
        string? failure = null;
        IDeviceMemorySession? session = null;
        try
        {
            session = await backend.OpenMemorySessionAsync(device, token).ConfigureAwait(false);
            method = session.Method;
            if (session is not IDeviceMemoryFill fill)
            {
                throw new GpuBackendException($"the {backend.Kind} backend cannot write a marker into device memory");
            }

            var (free, _) = session.GetMemoryInfo();
            var target = options.MaxBytes > 0 ? Math.Min(free, options.MaxBytes) : free;
            Allocate(session, target, options, allocations, token);
            if (allocations.Count == 0)
            {
                throw new GpuBackendException($"could not allocate any device memory ({free} bytes reported free)");
            }

            foreach (var allocation in allocations)
            {
                ThrowIfPastDeadline();
                if (!session.VerifyZero(allocation))
                {
                    dirty++;
                    dirtyBytes += allocation.Bytes;
                }

                checkedBytes += allocation.Bytes;
            }

            foreach (var allocation in allocations)
            {
                ThrowIfPastDeadline();
                fill.Fill(allocation, CanaryOptions.MarkerPattern);
            }

            ThrowIfPastDeadline();
            session.Synchronize();
            marker = true;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            failure = $"timed out after {options.Timeout.TotalSeconds:F0} s";
        }
        catch (Exception e) when (e is GpuBackendException or IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            failure = e.Message;
        }
        finally
        {
            foreach (var allocation in allocations)
            {
                allocation.Dispose();
            }

            if (session is not null)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
        }

        var verdict = dirty > 0 ? CanaryVerdict.Dirty : failure is null ? CanaryVerdict.Clean : CanaryVerdict.Incomplete;
        var report = new CanaryReport(device.Name, device.Uuid, backend.Kind, method, verdict, checkedBytes, dirtyBytes, allocations.Count, dirty,
            marker, time.GetElapsedTime(started), failure);
        Log(report);
        return report;
    }

    private static void Allocate(IDeviceMemorySession session, long target, CanaryOptions options, List<IDeviceAllocation> allocations, CancellationToken token)
    {
        var chunk = AlignDown(Math.Max(CanaryOptions.Alignment, Math.Min(options.ChunkBytes, target)));
        long allocated = 0;
        while (target - allocated >= CanaryOptions.Alignment)
        {
            token.ThrowIfCancellationRequested();
            var request = AlignDown(Math.Min(chunk, target - allocated));
            if (session.TryAllocate(request) is { } allocation)
            {
                allocations.Add(allocation);
                allocated += request;
                continue;
            }

            if (request <= CanaryOptions.Alignment)
            {
                break;
            }

            chunk = Math.Max(CanaryOptions.Alignment, AlignDown(request / 2));
        }
    }

    private static long AlignDown(long bytes) => bytes / CanaryOptions.Alignment * CanaryOptions.Alignment;

    private void Log(CanaryReport r)
    {
        var ms = r.Duration.TotalMilliseconds;
        switch (r.Verdict)
        {
            case CanaryVerdict.Clean:
                CanaryLog.Passed(logger, r.Device, r.Uuid, r.BytesChecked, r.Allocations, r.Method, r.MarkerWritten, ms);
                break;
            case CanaryVerdict.Dirty:
                CanaryLog.Failed(logger, r.Device, r.Uuid, r.DirtyAllocations, r.Allocations, r.DirtyBytes, r.BytesChecked, r.MarkerWritten, ms);
                break;
            default:
                CanaryLog.Incomplete(logger, r.Device, r.Uuid, r.FailureReason ?? "unknown", r.BytesChecked, r.DirtyBytes, ms);
                break;
        }
    }
}
