using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Scrubbing;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// Dynamic MIG's instance steps, through <see cref="IMigBackend"/> and <see cref="IMigInstanceScrubber"/> only: create the
/// GPU and compute instance of a placement for a claim, and clean a placement, which means scrub its instance (creating a
/// compute instance first if it has none, or a temporary instance at the placement if none exists) and only after a
/// verified scrub destroy it. Knows nothing of the checkpoint: the callers (<see cref="Claims.ClaimPipeline"/>,
/// <see cref="DeviceScrub"/>) record each step; the crash points between steps let the tests stop the process there.
/// </summary>
public sealed partial class MigInstanceLifecycle
{
    private readonly DeviceInventory _inventory;
    private readonly ICrashInjector _crash;
    private readonly ILogger<MigInstanceLifecycle> _logger;
    private readonly IMigBackend? _mig;
    private readonly IMigInstanceScrubber? _scrubber;
    private readonly Counter _operations;

    public MigInstanceLifecycle(DeviceInventory inventory, ICrashInjector crash, MetricsRegistry metrics, ILogger<MigInstanceLifecycle> logger, IMigBackend? mig = null, IMigInstanceScrubber? scrubber = null)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _inventory = inventory;
        _crash = crash;
        _logger = logger;
        _mig = mig;
        _scrubber = scrubber;
        _operations = metrics.Counter("securedra_mig_instance_operations_total",
            "Dynamic MIG instance steps, by operation (create, destroy, temporary) and outcome (ok, failed, in_use, refused).", "operation", "outcome");
    }

    /// <summary>
    /// Creates the GPU instance at the placement and its full-size compute instance. On failure throws
    /// <see cref="MigCreateException"/>, which says whether anything was left on the GPU (a GPU instance whose compute
    /// instance failed): then the placement's memory must be cleaned, never simply released.
    /// </summary>
    public async Task<(GpuDevice Parent, MigInstance Instance)> CreateAsync(string claimUid, string deviceName, CancellationToken cancellationToken)
    {
        var (parent, profile, placement) = Placement(deviceName);
        var mig = _mig ?? throw new MigCreateException($"device {deviceName}: no MIG backend is registered", leftInstance: false);
        MigInstance gi;
        try
        {
            gi = await mig.CreateGpuInstanceAsync(parent, profile.Id, placement, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _operations.Inc("create", "failed");
            LogCreateFailed(_logger, deviceName, claimUid, ex.Message);
            throw new MigCreateException($"device {deviceName}: creating the MIG GPU instance on GPU {parent.Name} failed: {ex.Message}", leftInstance: false, ex);
        }

        try
        {
            var instance = await mig.CreateComputeInstanceAsync(parent, gi.GpuInstanceId, cancellationToken).ConfigureAwait(false);
            _operations.Inc("create", "ok");
            LogCreated(_logger, deviceName, claimUid, instance.GpuInstanceId, instance.Uuid ?? "");
            return (parent, instance);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _operations.Inc("create", "failed");
            LogCreateFailed(_logger, deviceName, claimUid, ex.Message);
            throw new MigCreateException($"device {deviceName}: creating the compute instance of MIG GPU instance {gi.GpuInstanceId} on GPU {parent.Name} failed: {ex.Message}", leftInstance: true, ex);
        }
    }

    /// <summary>
    /// Cleans a placement whose slices the caller holds in Scrubbing (<see cref="DeviceInventory.TryBeginScrub"/>): scrubs
    /// the instance at the placement, then destroys its compute instance and GPU instance. Clean only when the scrub
    /// verified and both destroys succeeded; otherwise the instance (if any) is kept and the slices stay dirty for the
    /// retry loop, which scrubs again before it tries to destroy again. Never destroys an instance it did not first
    /// scrub and verify. An instance of another profile overlapping the placement is not this placement's to clean.
    /// </summary>
    public async Task<ScrubOutcome> CleanAsync(string deviceName, ScrubTrigger trigger, CancellationToken cancellationToken)
    {
        var (parent, profile, placement) = Placement(deviceName);
        if (_mig is null || _scrubber is null)
        {
            return new ScrubOutcome(deviceName, false, "no MIG backend or instance scrubber is registered", null);
        }

        var instances = await _mig.GetInstancesAsync(parent, cancellationToken).ConfigureAwait(false);
        var instance = instances.SingleOrDefault(i => i.ProfileId == profile.Id && i.Placement == placement);
        if (instance is null)
        {
            if (instances.FirstOrDefault(i => i.Placement.Overlaps(placement)) is { } other)
            {
                _operations.Inc("temporary", "refused");
                return new ScrubOutcome(deviceName, false, $"MIG instance {other.GpuInstanceId} ({other.ProfileName} at {other.Placement.Start}+{other.Placement.Size}) overlaps this placement; it is cleaned through its own placement", null);
            }

            // Dirty slices without an instance (a reboot, a crash after the destroy): a temporary instance at exactly this
            // placement gives the scrub worker that memory; it is destroyed like any other once verified.
            try
            {
                var gi = await _mig.CreateGpuInstanceAsync(parent, profile.Id, placement, cancellationToken).ConfigureAwait(false);
                instance = await _mig.CreateComputeInstanceAsync(parent, gi.GpuInstanceId, cancellationToken).ConfigureAwait(false);
                _operations.Inc("temporary", "ok");
                LogTemporary(_logger, deviceName, instance.GpuInstanceId);
            }
            catch (GpuBackendException ex)
            {
                _operations.Inc("temporary", "failed");
                return new ScrubOutcome(deviceName, false, $"no MIG instance holds this placement and a temporary one could not be created: {ex.Message}", null);
            }
        }
        else if (instance.Uuid is null)
        {
            // A GPU instance without a compute instance (a crash between the two creates, an admin's leftover): CUDA
            // needs a compute instance to reach the memory.
            try
            {
                instance = await _mig.CreateComputeInstanceAsync(parent, instance.GpuInstanceId, cancellationToken).ConfigureAwait(false);
            }
            catch (GpuBackendException ex)
            {
                return new ScrubOutcome(deviceName, false, $"MIG instance {instance.GpuInstanceId} has no compute instance and one could not be created for the scrub: {ex.Message}", null);
            }
        }

        var result = await _scrubber.ScrubAsync(parent, instance, trigger, cancellationToken).ConfigureAwait(false);
        if (!(result.Succeeded && result.Verified))
        {
            LogKept(_logger, deviceName, instance.GpuInstanceId, result.FailureReason ?? "the scrub did not verify");
            return new ScrubOutcome(deviceName, false, $"MIG instance {result.InstanceUuid}: {result.FailureReason ?? "the scrub did not verify"}; the instance is kept until a scrub verifies", null);
        }

        _crash.At(CrashPoints.MigAfterInstanceScrub);
        var destroyed = await DestroyAsync(deviceName, parent, instance, cancellationToken).ConfigureAwait(false);
        if (destroyed is not null)
        {
            return new ScrubOutcome(deviceName, false, $"MIG instance {result.InstanceUuid} scrubbed and verified but not destroyed ({destroyed}); it is scrubbed again before the next try", null);
        }

        _crash.At(CrashPoints.MigAfterInstanceDestroy);
        return new ScrubOutcome(deviceName, true, $"MIG instance {result.InstanceUuid} zeroed and verified ({result.BytesZeroed} bytes, coverage {result.Coverage:0.####}), then destroyed", null);
    }

    /// <summary>
    /// The instance of another profile or placement that overlaps this placement, if one exists: then the placement is
    /// not this caller's to clean (that instance is cleaned through its own placement), and starting a scrub of it would
    /// only mark more memory dirty. Null when the backend cannot answer: the scrub then runs and fails closed.
    /// </summary>
    public async Task<MigInstance?> OverlappingOtherAsync(string deviceName, CancellationToken cancellationToken)
    {
        var (parent, profile, placement) = Placement(deviceName);
        if (_mig is null)
        {
            return null;
        }

        try
        {
            var instances = await _mig.GetInstancesAsync(parent, cancellationToken).ConfigureAwait(false);
            return instances.FirstOrDefault(i => i.Placement.Overlaps(placement) && !(i.ProfileId == profile.Id && i.Placement == placement));
        }
        catch (GpuBackendException)
        {
            return null;
        }
    }

    /// <summary>Destroys the compute instances, then the GPU instance; null when done, else why not (IN_USE: processes remain).</summary>
    private async Task<string?> DestroyAsync(string deviceName, GpuDevice parent, MigInstance instance, CancellationToken cancellationToken)
    {
        var mig = _mig!;
        try
        {
            foreach (var ci in instance.ComputeInstances)
            {
                await mig.DestroyComputeInstanceAsync(parent, instance.GpuInstanceId, ci.Id, cancellationToken).ConfigureAwait(false);
            }

            await mig.DestroyGpuInstanceAsync(parent, instance.GpuInstanceId, cancellationToken).ConfigureAwait(false);
        }
        catch (MigException ex) when (ex.Code == MigErrorCode.NotFound)
        {
            // Gone already (an earlier attempt got this far): nothing is left to destroy.
        }
        catch (GpuBackendException ex)
        {
            var inUse = ex is MigException { Code: MigErrorCode.InUse };
            _operations.Inc("destroy", inUse ? "in_use" : "failed");
            LogDestroyRefused(_logger, deviceName, instance.GpuInstanceId, ex.Message);
            return ex.Message;
        }

        _operations.Inc("destroy", "ok");
        LogDestroyed(_logger, deviceName, instance.GpuInstanceId, instance.Uuid ?? "");
        return null;
    }

    private (GpuDevice Parent, MigProfile Profile, MigPlacement Placement) Placement(string deviceName) =>
        _inventory.FindPlacement(deviceName) ?? throw new InvalidOperationException($"device {deviceName} is not a MIG placement of this node");

    [LoggerMessage(EventId = EventIds.MigInstanceLifecycle.Created, Level = LogLevel.Information, Message = "Created MIG instance {GpuInstanceId} ({Uuid}) at {Device} for claim {ClaimUid}")]
    private static partial void LogCreated(ILogger logger, string device, string claimUid, int gpuInstanceId, string uuid);

    [LoggerMessage(EventId = EventIds.MigInstanceLifecycle.CreateFailed, Level = LogLevel.Warning, Message = "Creating the MIG instance at {Device} for claim {ClaimUid} failed: {Reason}")]
    private static partial void LogCreateFailed(ILogger logger, string device, string claimUid, string reason);

    [LoggerMessage(EventId = EventIds.MigInstanceLifecycle.Destroyed, Level = LogLevel.Information, Message = "MIG instance {GpuInstanceId} ({Uuid}) at {Device} scrubbed, verified and destroyed")]
    private static partial void LogDestroyed(ILogger logger, string device, int gpuInstanceId, string uuid);

    [LoggerMessage(EventId = EventIds.MigInstanceLifecycle.DestroyRefused, Level = LogLevel.Warning, Message = "MIG instance {GpuInstanceId} at {Device} was scrubbed but could not be destroyed ({Reason}); kept and withdrawn, scrubbed again before the next try")]
    private static partial void LogDestroyRefused(ILogger logger, string device, int gpuInstanceId, string reason);

    [LoggerMessage(EventId = EventIds.MigInstanceLifecycle.KeptAfterFailedScrub, Level = LogLevel.Warning, Message = "MIG instance {GpuInstanceId} at {Device} kept: its scrub did not verify ({Reason}); its slices, the overlapping devices and the parent stay withdrawn")]
    private static partial void LogKept(ILogger logger, string device, int gpuInstanceId, string reason);

    [LoggerMessage(EventId = EventIds.MigInstanceLifecycle.TemporaryInstance, Level = LogLevel.Information, Message = "Dirty memory slices of {Device} have no MIG instance: created temporary instance {GpuInstanceId} to scrub them")]
    private static partial void LogTemporary(ILogger logger, string device, int gpuInstanceId);
}
