using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// The one path from "may hold data" to "clean": begins the scrub in the inventory, refuses it when
/// the GPU is in MIG mode, runs it, and hands the outcome to the inventory, which makes a verified
/// result durable before it offers the device. Release scrubs (a claim's device), retries of dirty
/// devices, start-up scrubs of devices without proof and health recovery all come through here.
/// A scrub's own failures become a failed report in one place, the GPU layer's scrubbers; this class only turns the
/// MIG check's, the instance lookup's and the checkpoint's failures into an outcome.
/// </summary>
/// <para>
/// A MIG device (a placement) is scrubbed as its instance: <see cref="IMigInstanceScrubber"/> runs the
/// <c>securedra scrub-worker</c> child inside exactly that instance, and the inventory marks exactly the instance's
/// memory slices Clean once durable, or keeps them Dirty (withdrawing every device that uses them, the parent
/// included) for the retry loop. In dynamic MIG mode the instance is also destroyed after its verified scrub
/// (<see cref="MigInstanceLifecycle.CleanAsync"/>), before the slices are recorded Clean.
/// </para>
public sealed class DeviceScrub(
    DeviceInventory inventory,
    ScrubRunner scrubs,
    MigModeMonitor mig,
    MigInstanceLocator? migInstances = null,
    IMigInstanceScrubber? migScrubber = null,
    MigInstanceLifecycle? migLifecycle = null,
    PipelineContext? context = null,
    ICrashInjector? crash = null)
{
    /// <param name="claimUid">The releasing claim that holds the device; null for a device no claim holds.</param>
    /// <param name="trigger">Why the scrub runs: the label its metric sample carries.</param>
    /// <returns>Null when the device is not in a state this caller may scrub (another scrub runs, another claim holds it): nothing was done.</returns>
    public async Task<ScrubOutcome?> TryRunAsync(GpuDevice device, string? claimUid, ScrubTrigger trigger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (!inventory.TryBeginScrub(device.Name, claimUid))
        {
            return null;
        }

        var refusal = await MigRefusalAsync(device, cancellationToken).ConfigureAwait(false);
        var outcome = refusal is not null
            ? new ScrubOutcome(device.Name, false, refusal, null)
            : await scrubs.RunAsync(device, claimUid, trigger, cancellationToken).ConfigureAwait(false);

        try
        {
            await inventory.CompleteScrubAsync(device.Name, outcome.Clean, outcome.Detail, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new ScrubOutcome(device.Name, false, "the scrub's outcome could not be recorded in the checkpoint: " + ex.Message, outcome.Report);
        }

        return outcome;
    }

    /// <summary>
    /// The scrub of one device of a releasing claim. The device is normally held by this claim; it may also be
    /// Dirty from an earlier attempt of the same release (scrubbed again as a free device), or already clean
    /// (the retry loop got there first, or it was reserved anew after that). Never null.
    /// </summary>
    public async Task<ScrubOutcome> ForReleaseAsync(string claimUid, string deviceName, CancellationToken cancellationToken)
    {
        if (inventory.IsPlacement(deviceName))
        {
            return await PlacementForReleaseAsync(claimUid, deviceName, cancellationToken).ConfigureAwait(false);
        }

        var gpu = inventory.Find(deviceName);
        if (gpu is null)
        {
            return new ScrubOutcome(deviceName, true, "device no longer on this node", null);
        }

        var outcome = await TryRunAsync(gpu, claimUid, ScrubTrigger.Release, cancellationToken).ConfigureAwait(false);
        if (outcome is not null)
        {
            return outcome;
        }

        var state = inventory.Get(deviceName);
        if (state is { State: DeviceState.Clean or DeviceState.Reserved } || (state is { State: DeviceState.Prepared or DeviceState.Releasing } && state.ClaimUid != claimUid))
        {
            return new ScrubOutcome(deviceName, true, "already scrubbed", null);
        }

        return await TryRunAsync(gpu, claimUid: null, ScrubTrigger.Release, cancellationToken).ConfigureAwait(false)
            ?? new ScrubOutcome(deviceName, false, "a scrub of this device is already running", null);
    }

    /// <summary>
    /// Scrubs the MIG instance behind a placement (<paramref name="claimUid"/>: the releasing claim that holds it; null:
    /// one no claim holds, e.g. dirty after a failed scrub or a crash). Null when the placement is not in a state this
    /// caller may scrub. Any failure to find or scrub the instance is an unverified outcome: the slices stay Dirty.
    /// </summary>
    public async Task<ScrubOutcome?> TryRunPlacementAsync(string deviceName, string? claimUid, ScrubTrigger trigger, CancellationToken cancellationToken)
    {
        if (claimUid is null && Dynamic && await migLifecycle!.OverlappingOtherAsync(deviceName, cancellationToken).ConfigureAwait(false) is not null)
        {
            // Another instance holds part of this memory: it is cleaned through its own placement, not through this one.
            return null;
        }

        if (!inventory.TryBeginScrub(deviceName, claimUid))
        {
            return null;
        }

        ScrubOutcome outcome;
        try
        {
            outcome = await ScrubInstanceAsync(deviceName, trigger, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Finding the instance failed (the scrubber itself never throws): the slices stay Dirty.
            outcome = new ScrubOutcome(deviceName, false, ex is OperationCanceledException ? "the MIG instance scrub ran out of time" : ex.Message, null);
        }

        try
        {
            await inventory.CompleteScrubAsync(deviceName, outcome.Clean, outcome.Detail, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new ScrubOutcome(deviceName, false, "the scrub's outcome could not be recorded in the checkpoint: " + ex.Message, null);
        }

        return outcome;
    }

    private bool Dynamic => context?.Options.MigMode == MigMode.Dynamic && migLifecycle is not null;

    private async Task<ScrubOutcome> ScrubInstanceAsync(string deviceName, ScrubTrigger trigger, CancellationToken cancellationToken)
    {
        if (Dynamic)
        {
            // Dynamic: the instance exists for this use only; it is scrubbed, then destroyed, and only then are its slices Clean.
            return await migLifecycle!.CleanAsync(deviceName, trigger, cancellationToken).ConfigureAwait(false);
        }

        if (migInstances is null || migScrubber is null)
        {
            return new ScrubOutcome(deviceName, false, "no MIG instance scrubber is registered", null);
        }

        var (parent, instance) = await migInstances.FindAsync(deviceName, cancellationToken).ConfigureAwait(false);
        var result = await migScrubber.ScrubAsync(parent, instance, trigger, cancellationToken).ConfigureAwait(false);
        if (!(result.Succeeded && result.Verified))
        {
            return new ScrubOutcome(deviceName, false, $"MIG instance {result.InstanceUuid}: {result.FailureReason ?? "the scrub did not verify"}", null);
        }

        // Static: verified, not yet recorded Clean (a crash here restarts with the slices still dirty and scrubs again).
        crash?.At(CrashPoints.MigAfterInstanceScrub);
        return new ScrubOutcome(deviceName, true, $"MIG instance {result.InstanceUuid} zeroed and verified ({result.BytesZeroed} bytes, coverage {result.Coverage:0.####})", null);
    }

    private async Task<ScrubOutcome> PlacementForReleaseAsync(string claimUid, string deviceName, CancellationToken cancellationToken)
    {
        var outcome = await TryRunPlacementAsync(deviceName, claimUid, ScrubTrigger.Release, cancellationToken).ConfigureAwait(false);
        if (outcome is not null)
        {
            return outcome;
        }

        var state = inventory.GetPlacement(deviceName);
        if (state is { State: DeviceState.Clean or DeviceState.Reserved } || (state is { State: DeviceState.Prepared or DeviceState.Releasing } && state.ClaimUid != claimUid))
        {
            return new ScrubOutcome(deviceName, true, "already scrubbed", null);
        }

        return await TryRunPlacementAsync(deviceName, claimUid: null, ScrubTrigger.Release, cancellationToken).ConfigureAwait(false)
            ?? new ScrubOutcome(deviceName, false, "a scrub of this MIG instance is already running", null);
    }

    /// <summary>Why the GPU may not be scrubbed as a whole now (MIG mode on or pending, or the check failed); null when it may.</summary>
    private async Task<string?> MigRefusalAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        try
        {
            return await mig.IsEnabledAsync(device, cancellationToken).ConfigureAwait(false)
                ? "MIG mode is enabled or pending: a scrub of the whole GPU cannot be verified"
                : null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return ex.Message;
        }
    }
}
