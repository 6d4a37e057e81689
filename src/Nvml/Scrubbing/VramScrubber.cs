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

    public async Task<ScrubReport> ScrubAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        var gate = _deviceGates.GetOrAdd(device.Uuid, static _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var started = _timeProvider.GetTimestamp();
            IReadOnlyList<GpuProcess> processes;
            try
            {
                processes = await _backend.GetRunningProcessesAsync(device, cancellationToken).ConfigureAwait(false);
            }
            catch (GpuBackendException e)
            {
                // Without a process list nobody can say the device is idle: fail closed.
                return Finish(device, Failed(device, _backend.Kind, $"could not list compute processes: {e.Message}", _timeProvider.GetElapsedTime(started)));
            }

            if (processes.Count > 0)
            {
                _metrics.RecordRefused(_backend.Kind);
                ScrubLog.Refused(_logger, device.Name, device.Uuid, processes.Count, string.Join(",", processes.Select(p => p.Pid.ToString(CultureInfo.InvariantCulture))));
                throw new ScrubRefusedException(device.Name, processes);
            }

            // Device work is synchronous and long: run it on a pool thread so devices proceed in parallel,
            // and on one thread so a CUDA context made current there stays current.
            var report = await Task.Run(() => Run(device, started, cancellationToken), cancellationToken).ConfigureAwait(false);
            return Finish(device, report);
        }
        finally
        {
            gate.Release();
        }
    }

    private ScrubReport Finish(GpuDevice device, ScrubReport report)
    {
        _metrics.Record(_backend.Kind, report);
        if (report.Succeeded)
        {
            ScrubLog.Scrubbed(_logger, device.Name, device.Uuid, report.Method, report.BytesZeroed, report.FreeBytesBefore, report.TotalBytes, report.Coverage,
                report.Verified, report.SetupDuration.TotalMilliseconds, report.AllocateDuration.TotalMilliseconds, report.ZeroDuration.TotalMilliseconds,
                report.VerifyDuration.TotalMilliseconds, report.FreeDuration.TotalMilliseconds, report.TotalDuration.TotalMilliseconds);
        }
        else
        {
            ScrubLog.Failed(_logger, device.Name, device.Uuid, report.FailureReason ?? "unknown", report.Method, report.BytesZeroed, report.FreeBytesBefore,
                report.TotalBytes, report.Coverage, report.Verified, report.TotalDuration.TotalMilliseconds);
        }

        return report;
    }

    private ScrubReport Run(GpuDevice device, long started, CancellationToken cancellationToken)
    {
        var phase = new PhaseClock(_timeProvider, started, _options.Deadline, cancellationToken);
        var method = _backend.Kind;
        long total = 0, freeBefore = 0, zeroed = 0;
        var verified = false;
        string? failure = null;
        var allocations = new List<IDeviceAllocation>();
        IDeviceMemorySession? session = null;
        try
        {
            session = _backend.OpenMemorySessionAsync(device, cancellationToken).GetAwaiter().GetResult();
            method = session.Method;
            (freeBefore, total) = session.GetMemoryInfo();
            phase.End(ScrubPhase.Setup);

            var allocated = Allocate(session, freeBefore, allocations, phase);
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
                session?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is GpuBackendException or IOException or ObjectDisposedException)
            {
                failure ??= $"free phase failed: {e.Message}";
            }

            phase.EndFree();
        }

        var coverage = freeBefore == 0 ? (failure is null ? 1.0 : 0.0) : (double)zeroed / freeBefore;
        if (failure is null && coverage < _options.MinCoverage)
        {
            failure = string.Create(CultureInfo.InvariantCulture,
                $"coverage {coverage:F4} is below the minimum {_options.MinCoverage:F4}: zeroed {zeroed} of {freeBefore} free bytes");
        }

        if (failure is null && phase.Elapsed > _options.Deadline)
        {
            failure = $"deadline of {_options.Deadline.TotalSeconds:F1} s exceeded ({phase.Elapsed.TotalSeconds:F2} s)";
        }

        return new ScrubReport(device.Name, device.Uuid, total, freeBefore, zeroed, coverage,
            phase.Setup, phase.Allocate, phase.Zero, phase.Verify, phase.Free, phase.Elapsed,
            verified && failure is null, method, failure is null, failure);
    }

    private long Allocate(IDeviceMemorySession session, long free, List<IDeviceAllocation> allocations, PhaseClock phase)
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

            if (request <= _options.MinChunkBytes)
            {
                break;
            }

            chunk = Math.Max(_options.MinChunkBytes, AlignDown(request / 2));
        }

        return allocated;
    }

    private static long AlignDown(long bytes) => bytes / ScrubberOptions.Alignment * ScrubberOptions.Alignment;

    private ScrubReport Failed(GpuDevice device, string method, string reason, TimeSpan elapsed) =>
        new(device.Name, device.Uuid, device.MemoryBytes, 0, 0, 0, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, elapsed,
            false, method, false, reason);
}
