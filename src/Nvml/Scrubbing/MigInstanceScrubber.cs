using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// Scrubs one MIG instance through a short-lived <c>securedra scrub-worker</c> child started with
/// <c>CUDA_VISIBLE_DEVICES=&lt;MIG uuid&gt;</c> (a CUDA context cannot be re-scoped after cuInit, so the plugin's own
/// process cannot do it). This side refuses while processes run on the instance, kills the worker's process tree at the
/// deadline, reads at most <see cref="MigScrubWorkerReport.MaxBytes"/> of stdout, parses the report strictly (unknown
/// fields, trailing data, a different UUID, an outcome that disagrees with the exit code or numbers that do not add up
/// are all rejections) and requires the scrub to cover <see cref="GpuBackendOptions.ScrubMinCoverage"/> of the instance's
/// memory as this side knows it. Every outcome is exactly one log event (6300, 6301 or 6304) and one sample of <see cref="ScrubMetrics"/>; nothing
/// here throws for a scrub that did not succeed.
/// </summary>
public sealed class MigInstanceScrubber : IMigInstanceScrubber
{
    private const int MaxStderrBytes = 4096;

    private readonly GpuBackendOptions _backend;
    private readonly MigInstanceScrubberOptions _options;
    private readonly IMigBackend _mig;
    private readonly TimeProvider _timeProvider;
    private readonly ScrubMetrics _metrics;
    private readonly ILogger _logger;

    public MigInstanceScrubber(GpuBackendOptions backend, MigInstanceScrubberOptions options, IMigBackend mig, TimeProvider timeProvider, ScrubMetrics metrics, ILogger<MigInstanceScrubber>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(mig);
        ArgumentNullException.ThrowIfNull(metrics);
        options.Validate();
        _backend = backend;
        _options = options;
        _mig = mig;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _metrics = metrics;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    private string BackendKind => _backend.Kind == GpuBackendKind.Simulated ? "simulated" : "nvidia";

    public async Task<MigScrubResult> ScrubAsync(GpuDevice parent, MigInstance instance, ScrubTrigger trigger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(instance);
        var started = _timeProvider.GetTimestamp();
        try
        {
            return await ScrubCoreAsync(parent, instance, trigger, started, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller's deadline, not the worker's (that one is a kill, above): the scrub failed, it does not throw.
            return Finish(parent, instance, trigger, ScrubVerdict.Timeout, _timeProvider.GetElapsedTime(started), null, "the MIG instance scrub ran out of time");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Finish(parent, instance, trigger, ScrubVerdict.Error, _timeProvider.GetElapsedTime(started), null, $"the MIG instance scrub failed: {e.GetType().Name}: {e.Message}");
        }
    }

    private async Task<MigScrubResult> ScrubCoreAsync(GpuDevice parent, MigInstance instance, ScrubTrigger trigger, long started, CancellationToken cancellationToken)
    {
        if (instance.Uuid is null)
        {
            return Refused(parent, instance, trigger, started, "the instance has no compute instance, so no MIG device to scrub through; create its compute instance first");
        }

        IReadOnlyList<GpuProcess> processes;
        try
        {
            processes = await _mig.GetInstanceProcessesAsync(parent, instance.GpuInstanceId, cancellationToken).ConfigureAwait(false);
        }
        catch (GpuBackendException e)
        {
            return Refused(parent, instance, trigger, started, $"could not list the instance's compute processes: {e.Message}");
        }

        if (processes.Count > 0)
        {
            return Refused(parent, instance, trigger, started, $"{processes.Count} compute process(es) still run on it (pids {string.Join(", ", processes.Take(8).Select(p => p.Pid))})");
        }

        var run = await RunWorkerAsync(parent, instance, cancellationToken).ConfigureAwait(false);
        var duration = _timeProvider.GetElapsedTime(started);
        if (run.Killed)
        {
            return Finish(parent, instance, trigger, ScrubVerdict.Timeout, duration, null, $"the scrub worker (pid {run.Pid}) ran past its deadline of {_options.Deadline.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s and was killed");
        }

        if (run.StartFailure is { } startFailure)
        {
            return Finish(parent, instance, trigger, ScrubVerdict.Error, duration, null, $"the scrub worker could not start: {startFailure}");
        }

        var (report, rejection) = MigScrubReportParser.Parse(run.Stdout, run.Oversized, run.ExitCode, instance.Uuid);
        if (rejection is not null)
        {
            return Finish(parent, instance, trigger, ScrubVerdict.Rejected, duration, null, $"scrub worker report rejected (exit {run.ExitCode}): {rejection}{StderrTail(run)}");
        }

        var outcome = report!.Outcome switch
        {
            "scrubbed" => ScrubVerdict.Verified,
            "wrong-device" => ScrubVerdict.WrongDevice,
            "refused" => ScrubVerdict.Refused,
            _ => ScrubVerdict.NotVerified,
        };
        if (outcome == ScrubVerdict.Verified)
        {
            var required = (long)Math.Ceiling(_backend.ScrubMinCoverage * instance.MemoryBytes);
            if (report.BytesZeroed < required)
            {
                return Finish(parent, instance, trigger, ScrubVerdict.NotVerified, duration, report, string.Create(CultureInfo.InvariantCulture,
                    $"the worker zeroed and verified {report.BytesZeroed} bytes, less than {_backend.ScrubMinCoverage} of the instance's {instance.MemoryBytes} bytes"));
            }
        }

        return Finish(parent, instance, trigger, outcome, duration, report, report.FailureReason ?? (outcome == ScrubVerdict.Verified ? null : $"worker outcome {report.Outcome}"));
    }

    private MigScrubResult Refused(GpuDevice parent, MigInstance instance, ScrubTrigger trigger, long started, string reason) =>
        Finish(parent, instance, trigger, ScrubVerdict.Refused, _timeProvider.GetElapsedTime(started), null, reason);

    /// <summary>The scrub's one metric sample and one log event (MigInstanceScrubbed, MigInstanceScrubRefused or MigInstanceScrubFailed).</summary>
    private MigScrubResult Finish(GpuDevice parent, MigInstance instance, ScrubTrigger trigger, ScrubVerdict outcome, TimeSpan duration, MigScrubWorkerReport? report, string? reason)
    {
        var succeeded = outcome == ScrubVerdict.Verified;
        var zeroed = report?.BytesZeroed ?? 0;
        _metrics.Record(BackendKind, ScrubMetrics.MigInstance, trigger, outcome, succeeded ? zeroed : 0, duration);
        var uuid = instance.Uuid ?? "";
        var why = ScrubLabels.Of(trigger);
        switch (outcome)
        {
            case ScrubVerdict.Verified:
                MigScrubLog.Scrubbed(_logger, uuid, instance.GpuInstanceId, parent.Name, instance.Placement.ToString(), why, zeroed, instance.MemoryBytes, report!.Method, (long)duration.TotalMilliseconds);
                break;
            case ScrubVerdict.Refused:
                MigScrubLog.Refused(_logger, instance.Uuid ?? $"gi{instance.GpuInstanceId}", why, reason ?? "refused");
                break;
            default:
                MigScrubLog.Failed(_logger, uuid, instance.GpuInstanceId, parent.Name, instance.Placement.ToString(), why, ScrubLabels.Of(outcome), reason ?? ScrubLabels.Of(outcome));
                break;
        }

        var coverage = instance.MemoryBytes > 0 ? Math.Min(1, zeroed / (double)instance.MemoryBytes) : 0;
        return new MigScrubResult(parent.Name, instance.GpuInstanceId, uuid, succeeded, succeeded && report!.Verified, instance.MemoryBytes, zeroed,
            coverage, duration, report?.Method ?? "", succeeded ? null : reason ?? ScrubLabels.Of(outcome));
    }

    private async Task<WorkerRun> RunWorkerAsync(GpuDevice parent, MigInstance instance, CancellationToken cancellationToken)
    {
        var (fileName, prefix) = _options.ResolveWorker(Environment.ProcessPath, Environment.GetCommandLineArgs());
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in prefix)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var arg in WorkerArguments(parent, instance))
        {
            start.ArgumentList.Add(arg);
        }

        // The worker sees exactly this instance; nothing inherited may widen or redirect that.
        start.Environment[MigScrubWorker.VisibleDevicesVariable] = instance.Uuid;
        start.Environment.Remove("NVIDIA_VISIBLE_DEVICES");
        start.Environment.Remove("CUDA_DEVICE_ORDER");

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("Process.Start returned null");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or FileNotFoundException)
        {
            return new WorkerRun(0, -1, [], "", Oversized: false, Killed: false, StartFailure: e.Message);
        }

        using (process)
        {
            process.StandardInput.Close();
            using var deadline = new CancellationTokenSource(_options.Deadline, _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
            var stdout = ReadBoundedAsync(process.StandardOutput.BaseStream, MigScrubWorkerReport.MaxBytes, linked.Token);
            var stderr = ReadDrainingAsync(process.StandardError.BaseStream, MaxStderrBytes, linked.Token);
            var killed = false;
            var oversized = false;
            try
            {
                var (bytes, over) = await stdout.ConfigureAwait(false);
                oversized = over;
                if (over)
                {
                    // Nothing more of it will be read: a worker flooding stdout is broken or hostile.
                    process.Kill(entireProcessTree: true);
                }

                await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
                var errorBytes = await stderr.ConfigureAwait(false);
                return new WorkerRun(process.Id, process.ExitCode, over ? [] : bytes, System.Text.Encoding.UTF8.GetString(errorBytes), oversized, killed, null);
            }
            catch (OperationCanceledException)
            {
                killed = deadline.IsCancellationRequested;
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // Already gone.
                }

                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                if (!killed)
                {
                    throw;
                }

                return new WorkerRun(process.Id, -1, [], "", oversized, Killed: true, null);
            }
        }
    }

    private IEnumerable<string> WorkerArguments(GpuDevice parent, MigInstance instance)
    {
        yield return "scrub-worker";
        yield return "--instance-uuid";
        yield return instance.Uuid!;
        yield return "--parent-uuid";
        yield return parent.Uuid;
        yield return "--gpu-instance-id";
        yield return instance.GpuInstanceId.ToString(CultureInfo.InvariantCulture);
        yield return "--timeout-seconds";
        yield return Math.Max(1, (int)_options.Deadline.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        yield return "--scrub-min-coverage";
        yield return _backend.ScrubMinCoverage.ToString("R", CultureInfo.InvariantCulture);
        yield return "--gpu-backend";
        yield return BackendKind;
        if (_backend.Kind == GpuBackendKind.Simulated)
        {
            var s = _backend.Simulated;
            yield return "--simulated-gpus";
            yield return s.DeviceCount.ToString(CultureInfo.InvariantCulture);
            yield return "--simulated-memory";
            yield return s.MemoryBytes.ToString(CultureInfo.InvariantCulture);
            yield return "--simulated-reserved-memory";
            yield return s.ReservedBytes.ToString(CultureInfo.InvariantCulture);
            yield return "--simulated-vram-dir";
            yield return s.VramDirectory;
        }
    }

    /// <summary>Reads until end of stream or until more than <paramref name="limit"/> bytes arrived (then stops and says so).</summary>
    private static async Task<(byte[] Bytes, bool Oversized)> ReadBoundedAsync(Stream stream, int limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[limit + 1];
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return (buffer[..filled], false);
            }

            filled += read;
        }

        return (buffer[..limit], true);
    }

    /// <summary>Keeps the first <paramref name="keep"/> bytes and discards the rest, so a chatty worker never blocks on a full pipe.</summary>
    private static async Task<byte[]> ReadDrainingAsync(Stream stream, int keep, CancellationToken cancellationToken)
    {
        var kept = new byte[keep];
        var filled = 0;
        var scratch = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(scratch, cancellationToken).ConfigureAwait(false)) > 0)
        {
            var n = Math.Min(read, keep - filled);
            scratch.AsSpan(0, n).CopyTo(kept.AsSpan(filled));
            filled += n;
        }

        return kept[..filled];
    }

    private static string StderrTail(WorkerRun run)
    {
        var text = run.Stderr.Trim();
        return text.Length == 0 ? "" : $" (worker stderr: {Truncate(text)})";
    }

    private static string Truncate(string text) => MigScrubReportParser.Truncate(text);

    private sealed record WorkerRun(int Pid, int ExitCode, byte[] Stdout, string Stderr, bool Oversized, bool Killed, string? StartFailure);
}
