using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// Scrubs a device that no claim holds (dirty after an interrupted release, failed an earlier
/// scrub, or recovering from a health event) and records the outcome everywhere it belongs: a
/// verified scrub clears the checkpoint's dirty mark and returns the device to the inventory; any
/// other outcome keeps it withdrawn. The scrub retry loop and health recovery both go through here.
/// </summary>
public sealed class FreeDeviceScrub(DeviceInventory inventory, ScrubRunner scrubs, ClaimJournal journal)
{
    /// <summary>Null when the device is not free (a claim holds it, or another scrub runs): nothing was done.</summary>
    public async Task<ScrubOutcome?> TryRunAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (!inventory.TryBeginScrub(device.Name, claimUid: null))
        {
            return null;
        }

        ScrubOutcome outcome;
        try
        {
            outcome = await scrubs.RunAsync(device, claimUid: null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            outcome = new ScrubOutcome(device.Name, false, ex.Message, null);
        }

        if (outcome.Clean)
        {
            journal.MarkDeviceClean(device.Name);
            await journal.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            inventory.CompleteScrubClean(device.Name);
        }
        else
        {
            inventory.CompleteScrubFailed(device.Name, outcome.Detail);
        }

        return outcome;
    }
}
