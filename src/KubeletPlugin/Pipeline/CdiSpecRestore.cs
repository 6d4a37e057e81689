using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Pipeline;

/// <summary>
/// Puts back the CDI spec of a prepared claim that lost it. Prepare writes a claim's spec and its Prepared commit at
/// the same time (ClaimPipeline), so a crash between the two can leave the claim Prepared in the checkpoint with no
/// spec; a tmpfs CDI root emptied under a running node does the same. A spec is a function of the claim's UID and its
/// devices as the inventory has them, so it can be written again byte for byte, and the kubelet's retried Prepare gets
/// the CDI IDs it was (or would have been) answered with, backed by the same file. Claims with a MIG device cannot be
/// rebuilt from the checkpoint (their device nodes come from the instance): Prepare writes their spec before the commit.
/// Registered by the plugin's pipeline only: the driver proxy's prepared claims name the vendor's CDI specs, not ours.
/// </summary>
public sealed partial class CdiSpecRestore(CdiSpecWriter cdi, DeviceInventory inventory, MetricsRegistry metrics, ILogger<CdiSpecRestore> logger)
{
    private readonly Counter _restored = metrics.Counter(
        "securedra_cdi_spec_restored_total",
        "CDI specs of prepared claims written again: missing, or differing from what the checkpoint implies; unrestorable: missing and not rebuildable (MIG devices, a GPU that changed); failed: the write at start-up failed.",
        "outcome");

    /// <summary>
    /// The devices the claim's spec is built from, when the inventory can rebuild it exactly: every device a whole
    /// GPU (no MIG placement or instance) that the inventory has under the UUID the checkpoint recorded. Else null.
    /// </summary>
    public IReadOnlyList<GpuDevice>? SpecDevices(CheckpointClaim claim)
    {
        ArgumentNullException.ThrowIfNull(claim);
        var devices = new List<GpuDevice>(claim.Devices.Count);
        foreach (var recorded in claim.Devices)
        {
            if (recorded.MigInstance is not null || inventory.IsPlacement(recorded.Name) || inventory.Find(recorded.Name) is not { } gpu || gpu.Uuid != recorded.Uuid)
            {
                return null;
            }

            devices.Add(gpu);
        }

        return devices.Count > 0 ? devices : null;
    }

    /// <summary>An idempotent Prepare's check before it answers: one stat; the spec is written again when it is missing.</summary>
    public async Task EnsureExistsAsync(string claimUid, CheckpointClaim claim, CancellationToken cancellationToken)
    {
        if (cdi.Exists(claimUid))
        {
            return;
        }

        await RestoreAsync(claimUid, claim, SpecDevices(claim), CdiSpecOnDisk.Missing, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Start-up: the spec is written again when it is missing or not byte for byte what the checkpoint implies. A write
    /// that fails is logged and counted, not thrown: start-up must still come up to release claims and scrub (a
    /// retried Prepare of this claim tries the write again and fails visibly if it still cannot).
    /// </summary>
    public async Task RepairAsync(string claimUid, CheckpointClaim claim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claim);
        var devices = SpecDevices(claim);
        var onDisk = devices is null
            ? (cdi.Exists(claimUid) ? CdiSpecOnDisk.Same : CdiSpecOnDisk.Missing)
            : cdi.Compare(claimUid, cdi.Encode(claimUid, devices));
        if (onDisk == CdiSpecOnDisk.Same)
        {
            return;
        }

        try
        {
            await RestoreAsync(claimUid, claim, devices, onDisk, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _restored.Inc("failed");
            LogRestoreFailed(logger, claim.Namespace, claim.Name, claimUid, cdi.FileName(claimUid), ex.Message);
        }
    }

    /// <param name="devices">The claim's <see cref="SpecDevices"/>, as the caller already computed them.</param>
    private async Task RestoreAsync(string claimUid, CheckpointClaim claim, IReadOnlyList<GpuDevice>? devices, CdiSpecOnDisk onDisk, CancellationToken cancellationToken)
    {
        if (devices is null)
        {
            _restored.Inc("unrestorable");
            LogUnrestorable(logger, claim.Namespace, claim.Name, claimUid, cdi.FileName(claimUid));
            return;
        }

        await cdi.WriteAsync(claimUid, devices, cancellationToken).ConfigureAwait(false);
        var outcome = onDisk == CdiSpecOnDisk.Missing ? "missing" : "differed";
        _restored.Inc(outcome);
        LogRestored(logger, claim.Namespace, claim.Name, claimUid, cdi.FileName(claimUid), outcome);
    }
}
