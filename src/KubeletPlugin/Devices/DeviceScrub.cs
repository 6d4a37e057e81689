using SecureDra.Nvml.Backends;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// The one path from "may hold data" to "clean": begins the scrub in the inventory, refuses it when
/// the GPU is in MIG mode, runs it, and hands the outcome to the inventory, which makes a verified
/// result durable before it offers the device. Release scrubs (a claim's device), retries of dirty
/// devices, start-up scrubs of devices without proof and health recovery all come through here.
/// </summary>
public sealed class DeviceScrub(DeviceInventory inventory, ScrubRunner scrubs, MigModeMonitor mig)
{
    /// <param name="claimUid">The releasing claim that holds the device; null for a device no claim holds.</param>
    /// <returns>Null when the device is not in a state this caller may scrub (another scrub runs, another claim holds it): nothing was done.</returns>
    public async Task<ScrubOutcome?> TryRunAsync(GpuDevice device, string? claimUid, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (!inventory.TryBeginScrub(device.Name, claimUid))
        {
            return null;
        }

        ScrubOutcome outcome;
        try
        {
            outcome = await mig.IsEnabledAsync(device, cancellationToken).ConfigureAwait(false)
                ? new ScrubOutcome(device.Name, false, "MIG mode is enabled or pending: a scrub of the whole GPU cannot be verified", null)
                : await scrubs.RunAsync(device, claimUid, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            outcome = new ScrubOutcome(device.Name, false, ex.Message, null);
        }

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
}
