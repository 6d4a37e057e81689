using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Nvidia;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Nvml.Native.Cuda;
using SecureDra.Observability.Metrics;

namespace SecureDra.Nvml.Scrubbing;

/// <summary>
/// The body of <c>securedra scrub-worker</c>: in a process whose <c>CUDA_VISIBLE_DEVICES</c> names one MIG device, check
/// that exactly that device is visible (CUDA's own UUID on NVIDIA; the simulated equivalent resolves the same variable
/// against the persisted instances), then zero and verify it with <see cref="VramScrubber"/> under the coverage rule of
/// docs/scrub-coverage.md, refusing while processes run on the instance. Exit codes: <see cref="ExitScrubbed"/>,
/// <see cref="ExitFailed"/> (failed or refused), <see cref="ExitUsage"/>, <see cref="ExitWrongDevice"/>.
/// </summary>
public sealed class MigScrubWorker(GpuBackendOptions options, TimeProvider timeProvider, ILoggerFactory loggers)
{
    public const int ExitScrubbed = 0;
    public const int ExitFailed = 1;
    public const int ExitUsage = 2;
    public const int ExitWrongDevice = 3;

    public const string VisibleDevicesVariable = "CUDA_VISIBLE_DEVICES";

    private const int MaxVisibleListed = 16;

    public async Task<(int ExitCode, MigScrubWorkerReport Report)> RunAsync(MigScrubWorkerRequest request, string? visibleDevices, TimeSpan deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        var started = timeProvider.GetTimestamp();
        var listed = (visibleDevices ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (listed.Length == 0)
        {
            return WrongDevice(request, [], $"{VisibleDevicesVariable} is not set: refusing to scrub whatever devices CUDA would show");
        }

        Target target;
        try
        {
            target = options.Kind == GpuBackendKind.Simulated ? Simulated(request, listed) : Nvidia(request);
        }
        catch (GpuBackendException e)
        {
            return (ExitFailed, Report(request, "failed", [], null, started) with { FailureReason = MigScrubWorkerReport.Bound($"could not open the instance: {e.Message}") });
        }

        if (target.WrongReason is { } wrong)
        {
            return WrongDevice(request, target.Visible, wrong);
        }

        var scrubberOptions = new ScrubberOptions { MinCoverage = options.ScrubMinCoverage, Deadline = deadline };
        var view = new MigInstanceView(options.Kind == GpuBackendKind.Simulated ? "simulated" : "nvidia", target.Device!, target.Processes!, target.OpenSession!);
        var scrubber = new VramScrubber(view, Options.Create(scrubberOptions), timeProvider, new ScrubMetrics(new MetricsRegistry()), loggers.CreateLogger<VramScrubber>());
        var scrub = await scrubber.ScrubAsync(target.Device!, ScrubTrigger.Cli, cancellationToken).ConfigureAwait(false);
        var outcome = scrub.Succeeded ? "scrubbed" : scrub.Refused ? "refused" : "failed";
        return (scrub.Succeeded ? ExitScrubbed : ExitFailed, Report(request, outcome, target.Visible, scrub, started));
    }

    private Target Simulated(MigScrubWorkerRequest request, string[] listed)
    {
        var mig = new SimulatedMigBackend(options.Simulated);
        var visible = mig.Visible(listed);
        var uuids = visible.Select(v => v.Instance.Uuid!).Take(MaxVisibleListed).ToArray();
        if (visible.Count != 1 || visible[0].Instance.Uuid != request.InstanceUuid)
        {
            return new Target(uuids, $"expected exactly {request.InstanceUuid} to be visible, saw {visible.Count} device(s): [{string.Join(", ", uuids)}]", null, null, null);
        }

        var (parent, instance) = visible[0];
        if (parent.Uuid != request.ParentUuid || instance.GpuInstanceId != request.GpuInstanceId)
        {
            return new Target(uuids, $"{request.InstanceUuid} is GPU instance {instance.GpuInstanceId} of {parent.Uuid}, expected instance {request.GpuInstanceId} of {request.ParentUuid}", null, null, null);
        }

        var device = InstanceDevice(parent, request, instance.MemoryBytes);
        return new Target(uuids, null, device,
            ct => mig.GetInstanceProcessesAsync(parent, instance.GpuInstanceId, ct),
            () => mig.OpenInstanceMemorySession(parent, instance));
    }

    private static Target Nvidia(MigScrubWorkerRequest request)
    {
        var cuda = CudaDriver.Open();
        var count = cuda.GetDeviceCount();
        var uuids = Enumerable.Range(0, Math.Min(count, MaxVisibleListed)).Select(i => CudaDeviceIdentity.GetUuid(i, "MIG-")).ToArray();
        if (count != 1 || uuids[0] != request.InstanceUuid)
        {
            return new Target(uuids, $"expected exactly {request.InstanceUuid} to be visible to CUDA, saw {count} device(s): [{string.Join(", ", uuids)}]", null, null, null);
        }

        var parent = new GpuDevice("parent", 0, request.ParentUuid, "", "", "", "", "", "", null, 0, 0, []);
        var mig = new NvidiaMigBackend();
        return new Target(uuids, null, InstanceDevice(parent, request, 0),
            ct => mig.GetInstanceProcessesAsync(parent, request.GpuInstanceId, ct),
            () => NvidiaMemorySession.OpenOrdinal(cuda, 0));
    }

    private static GpuDevice InstanceDevice(GpuDevice parent, MigScrubWorkerRequest request, long memoryBytes) =>
        parent with
        {
            Name = $"mig-gi{request.GpuInstanceId}",
            Uuid = request.InstanceUuid,
            MemoryBytes = memoryBytes,
            DeviceNodePaths = [],
            MigEnabled = true,
        };

    private (int, MigScrubWorkerReport) WrongDevice(MigScrubWorkerRequest request, IReadOnlyList<string> visible, string reason) =>
        (ExitWrongDevice, Report(request, "wrong-device", visible, null, timeProvider.GetTimestamp()) with { FailureReason = MigScrubWorkerReport.Bound(reason) });

    private MigScrubWorkerReport Report(MigScrubWorkerRequest request, string outcome, IReadOnlyList<string> visible, ScrubReport? scrub, long started) => new()
    {
        Outcome = outcome,
        InstanceUuid = request.InstanceUuid,
        VisibleUuids = [.. visible.Take(MaxVisibleListed)],
        TotalBytes = scrub?.TotalBytes ?? 0,
        BytesZeroed = scrub?.BytesZeroed ?? 0,
        Coverage = scrub?.Coverage ?? 0,
        Verified = scrub?.Verified ?? false,
        Method = scrub?.Method ?? "",
        DurationMs = (long)timeProvider.GetElapsedTime(started).TotalMilliseconds,
        FailureReason = MigScrubWorkerReport.Bound(scrub?.FailureReason),
    };

    private sealed record Target(
        IReadOnlyList<string> Visible,
        string? WrongReason,
        GpuDevice? Device,
        Func<CancellationToken, Task<IReadOnlyList<GpuProcess>>>? Processes,
        Func<IDeviceMemorySession>? OpenSession);
}

/// <summary>Which instance the worker must scrub: the MIG UUID it must see, its parent GPU's UUID and GPU-instance id.</summary>
public sealed record MigScrubWorkerRequest(string InstanceUuid, string ParentUuid, int GpuInstanceId);
