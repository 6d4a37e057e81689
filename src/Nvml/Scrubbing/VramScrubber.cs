using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SecureDra.Nvml.Backends;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// Allocates all free memory of a device in large chunks (halving on out-of-memory down to a
/// minimum), zeroes it, has the device verify it reads back as zero, frees it, and reports.
/// Coverage is of the device's total memory: anything left beyond the device's measured reserved
/// baseline (plus less than one allocation granule) fails the scrub (docs/scrub-coverage.md).
/// Fails closed: low coverage, a verification mismatch, a backend or CUDA error and a deadline
/// overrun all give <see cref="ScrubReport.Succeeded"/> = false with the reason. One scrub per
/// device at a time (a semaphore per device UUID); devices scrub in parallel on pool threads.
/// </summary>
public sealed class VramScrubber : IVramScrubber
{
    private readonly IGpuBackend _backend;
    private readonly ScrubberOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ScrubMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _deviceGates = new(StringComparer.Ordinal);
    private readonly ReservedBaselines _baselines = new();

    public VramScrubber(IGpuBackend backend, IOptions<ScrubberOptions> options, TimeProvider timeProvider, ScrubMetrics metrics, ILogger<VramScrubber>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        _backend = backend;
        _options = options.Value;
        _options.Validate();
        _timeProvider = timeProvider ?? TimeProvider.System;
        _metrics = metrics;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// Scrubs <paramref name="device"/>; never throws for a scrub that did not verify. Every way it can end (verified,
    /// not verified, refused, a backend error, the caller's deadline) is a report, one log event and one sample of the
    /// scrub metrics, here and nowhere else.
    /// </summary>
    public async Task<ScrubReport> ScrubAsync(GpuDevice device, ScrubTrigger trigger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        // The report's total is timed from the request, not from the gate: a release waits for the device's previous scrub as well.
        var started = _timeProvider.GetTimestamp();
        ScrubReport report;
        try
        {
            report = await ScrubGatedAsync(device, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            var elapsed = _timeProvider.GetElapsedTime(started);
            report = Failed(device, _backend.Kind, string.Create(CultureInfo.InvariantCulture, $"scrub timed out after {elapsed.TotalSeconds:F1} s"), elapsed) with { FailureKind = ScrubVerdict.Timeout };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever escaped the phases (a backend bug, a lost device): the scrub failed, it does not throw.
            report = Failed(device, _backend.Kind, $"scrub failed: {e.GetType().Name}: {e.Message}", _timeProvider.GetElapsedTime(started)) with { FailureKind = ScrubVerdict.Error };
        }

        report = report with { Timings = report.Timings with { Total = _timeProvider.GetElapsedTime(started) } };
        Record(device, trigger, report);
        return report;
    }

    private async Task<ScrubReport> ScrubGatedAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        var gate = _deviceGates.GetOrAdd(device.Uuid, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The scrub's own deadline and phases start once the device is this scrub's.
            var started = _timeProvider.GetTimestamp();
            IReadOnlyList<GpuProcess> processes;
            try
            {
                processes = await _backend.GetRunningProcessesAsync(device, cancellationToken).ConfigureAwait(false);
            }
            catch (GpuBackendException e)
            {
                // Without a process list nobody can say the device is idle: fail closed.
                return Failed(device, _backend.Kind, $"could not list compute processes: {e.Message}", _timeProvider.GetElapsedTime(started)) with { FailureKind = ScrubVerdict.Error };
            }

            if (processes.Count > 0)
            {
                return Refused(device, processes, _timeProvider.GetElapsedTime(started));
            }

            // Device work is synchronous and long: run it on a pool thread so devices proceed in parallel. The
            // session makes its CUDA context current before every call, so a continuation on another thread is safe.
            return await Task.Run(() => RunAsync(device, started, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The scrub's one metric sample and one log event (VramScrubbed 3001, VramScrubFailed 3002 or VramScrubRefused 3003).</summary>
    private void Record(GpuDevice device, ScrubTrigger trigger, ScrubReport report)
    {
        _metrics.Record(_backend.Kind, trigger, report);
        var why = ScrubLabels.Of(trigger);
        switch (report.Verdict)
        {
            case ScrubVerdict.Verified:
                ScrubLog.Scrubbed(_logger, device.Name, device.Uuid, why, report.Method, report.BytesZeroed, report.TotalBytes, report.FreeBytesBefore, report.Coverage,
                    report.Verified, report.UncoveredBytes, report.BaselineReservedBytes, report.UnallocatableBytes, report.ToleranceBytes, report.SetupDuration.TotalMilliseconds, report.AllocateDuration.TotalMilliseconds, report.ZeroDuration.TotalMilliseconds,
                    report.VerifyDuration.TotalMilliseconds, report.FreeDuration.TotalMilliseconds, report.TotalDuration.TotalMilliseconds);
                break;
            case ScrubVerdict.Refused:
                ScrubLog.Refused(_logger, device.Name, device.Uuid, why, report.BlockingProcesses.Count, string.Join(",", report.BlockingProcesses.Select(p => p.Pid.ToString(CultureInfo.InvariantCulture))));
                break;
            default:
                ScrubLog.Failed(_logger, device.Name, device.Uuid, why, ScrubLabels.Of(report.Verdict), report.FailureReason ?? "unknown", report.Method, report.BytesZeroed, report.TotalBytes,
                    report.FreeBytesBefore, report.Coverage, report.Verified, report.UncoveredBytes, report.BaselineReservedBytes, report.UnallocatableBytes,
                    report.ToleranceBytes, report.TotalDuration.TotalMilliseconds);
                break;
        }
    }

    private async Task<ScrubReport> RunAsync(GpuDevice device, long started, CancellationToken cancellationToken)
    {
        var phase = new PhaseClock(_timeProvider, started, _options.Deadline, cancellationToken);
        var method = _backend.Kind;
        long total = 0, freeBefore = 0, zeroed = 0, granularity = ScrubberOptions.Alignment;
        var verified = false;
        string? failure = null;
        var failureKind = ScrubVerdict.NotVerified;
        var allocations = new List<IDeviceAllocation>();
        IDeviceMemorySession? session = null;
        try
        {
            session = await _backend.OpenMemorySessionAsync(device, cancellationToken).ConfigureAwait(false);
            method = session.Method;
            (freeBefore, total) = session.GetMemoryInfo();
            granularity = Math.Max(ScrubberOptions.Alignment, AlignDown(session.AllocationGranularity));
            phase.End(ScrubPhase.Setup);

            var allocated = Allocate(session, freeBefore, Math.Min(_options.MinChunkBytes, granularity), allocations, phase);
            phase.End(ScrubPhase.Allocate);

            foreach (var allocation in allocations)
            {
                session.Zero(allocation);
                phase.Check(ScrubPhase.Zero);
            }

            session.Synchronize();
            zeroed = allocated;
            phase.End(ScrubPhase.Zero);

            var mismatches = 0;
            foreach (var allocation in allocations)
            {
                if (!session.VerifyZero(allocation))
                {
                    mismatches++;
                }

                phase.Check(ScrubPhase.Verify);
            }

            session.Synchronize();
            verified = mismatches == 0;
            phase.End(ScrubPhase.Verify);

            if (!verified)
            {
                failure = $"verification found non-zero memory in {mismatches} of {allocations.Count} chunk(s) after zeroing";
                zeroed = 0;
            }
        }
        catch (DeadlineExceededException e)
        {
            failure = e.Message;
            failureKind = ScrubVerdict.Timeout;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is GpuBackendException or IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            failure = $"{phase.Current.ToString().ToLowerInvariant()} phase failed: {e.Message}";
        }
        finally
        {
            // Freeing can fail too (a sticky CUDA error, a lost device): that is a failed scrub, never an escape.
            foreach (var allocation in allocations)
            {
                try
                {
                    allocation.Dispose();
                }
                catch (Exception e) when (e is GpuBackendException or IOException or ObjectDisposedException)
                {
                    failure ??= $"free phase failed: {e.Message}";
                }
            }

            try
            {
                if (session is not null)
                {
                    await session.DisposeAsync().ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is GpuBackendException or IOException or ObjectDisposedException)
            {
                failure ??= $"free phase failed: {e.Message}";
            }

            phase.EndFree();
        }

        // Coverage is measured against the device's total memory: what was not free when the scrub
        // started is exactly what a previous tenant could have left behind.
        total = Math.Max(total, device.MemoryBytes);
        var judged = JudgeCoverage(device, total, zeroed, granularity, failure);
        failure = judged.Failure;

        if (failure is null && phase.Elapsed > _options.Deadline)
        {
            failure = $"deadline of {_options.Deadline.TotalSeconds:F1} s exceeded ({phase.Elapsed.TotalSeconds:F2} s)";
            failureKind = ScrubVerdict.Timeout;
        }

        var succeeded = failure is null;
        var baseline = succeeded ? _baselines.Record(device.Uuid, total - zeroed) : judged.Baseline;
        return new ScrubReport
        {
            DeviceName = device.Name,
            DeviceUuid = device.Uuid,
            Method = method,
            TotalBytes = total,
            FreeBytesBefore = freeBefore,
            BytesZeroed = zeroed,
            Coverage = judged.Coverage,
            Timings = new ScrubTimings(phase.Setup, phase.Allocate, phase.Zero, phase.Verify, phase.Free, phase.Elapsed),
            Verified = verified && succeeded,
            FailureReason = failure,
            FailureKind = failure is null ? ScrubVerdict.NotVerified : failureKind,
            BaselineReservedBytes = Math.Min(total - zeroed, judged.Baseline ?? (succeeded ? total - zeroed : 0)),
            BaselineBytes = baseline,
            ToleranceBytes = granularity,
        };
    }

    /// <summary>
    /// The coverage rule. Without a baseline for the device (its first verified scrub since start), the
    /// scrub must cover <see cref="ScrubberOptions.MinCoverage"/> of the total and what it leaves becomes the
    /// baseline. With one, everything but the baseline must be covered, short of less than one allocation
    /// granule: a free remainder smaller than anything the device hands out, which no context can allocate.
    /// </summary>
    private (double Coverage, long? Baseline, string? Failure) JudgeCoverage(GpuDevice device, long total, long zeroed, long tolerance, string? failure)
    {
        var baseline = _baselines.Get(device.Uuid);
        if (total <= 0)
        {
            return (0, baseline, failure ?? "the device reported no memory: nothing can be verified");
        }

        var coverage = (double)zeroed / total;
        if (failure is not null)
        {
            return (coverage, baseline, failure);
        }

        var uncovered = total - zeroed;
        if (baseline is null)
        {
            return coverage >= _options.MinCoverage
                ? (coverage, null, null)
                : (coverage, null, string.Create(CultureInfo.InvariantCulture,
                    $"coverage {coverage:F4} is below the minimum {_options.MinCoverage:F4} of total memory for a device without a measured reserved baseline (--scrub-min-coverage): zeroed {zeroed} of {total} bytes, {uncovered} bytes not covered"));
        }

        var unallocatable = uncovered - Math.Min(uncovered, baseline.Value);
        return unallocatable < tolerance
            ? (coverage, baseline, null)
            : (coverage, baseline, string.Create(CultureInfo.InvariantCulture,
                $"{uncovered} of {total} bytes not covered: {baseline.Value} bytes are the device's measured reserved baseline, the other {unallocatable} bytes could not be allocated now (tolerated: less than one allocation granule of {tolerance} bytes); coverage {coverage:F4}"));
    }

    /// <summary>
    /// Bulk chunks first, halving on out-of-memory down to <see cref="ScrubberOptions.MinChunkBytes"/>; then
    /// the tail, halving down to <paramref name="floor"/> (one allocation granule), so less than a granule stays free.
    /// </summary>
    private long Allocate(IDeviceMemorySession session, long free, long floor, List<IDeviceAllocation> allocations, PhaseClock phase)
    {
        var chunk = AlignDown(Math.Max(_options.MinChunkBytes, Math.Min(_options.InitialChunkBytes, free)));
        long allocated = 0;
        while (free - allocated >= ScrubberOptions.Alignment)
        {
            phase.Check(ScrubPhase.Allocate);
            var request = AlignDown(Math.Min(chunk, free - allocated));
            var allocation = session.TryAllocate(request);
            if (allocation is not null)
            {
                allocations.Add(allocation);
                allocated += request;
                continue;
            }

            if (request <= floor)
            {
                break;
            }

            chunk = Math.Max(request > _options.MinChunkBytes ? _options.MinChunkBytes : floor, AlignDown(request / 2));
        }

        return allocated;
    }

    private static long AlignDown(long bytes) => bytes / ScrubberOptions.Alignment * ScrubberOptions.Alignment;

    private ScrubReport Failed(GpuDevice device, string method, string reason, TimeSpan elapsed) => new()
    {
        DeviceName = device.Name,
        DeviceUuid = device.Uuid,
        Method = method,
        TotalBytes = device.MemoryBytes,
        Timings = ScrubTimings.Before(elapsed),
        FailureReason = reason,
        BaselineBytes = _baselines.Get(device.Uuid),
    };

    /// <summary>Compute processes still hold the device: nothing was touched, and the caller must keep it withdrawn.</summary>
    private ScrubReport Refused(GpuDevice device, IReadOnlyList<GpuProcess> processes, TimeSpan elapsed) =>
        Failed(device, _backend.Kind, $"refusing to scrub {device.Name}: {processes.Count} compute process(es) still running (pids {string.Join(", ", processes.Select(p => p.Pid))})", elapsed)
            with { BlockingProcesses = processes };
}
