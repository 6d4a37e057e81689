using Microsoft.Extensions.Logging;
using SecureDra.Kube.Events;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// Keeps GPUs in MIG mode (current or pending) withdrawn with reason MigModeEnabled until MIG
/// support lands: a scrub opens the whole GPU, and what it covers on a partitioned GPU is unknown,
/// so it cannot be called verified. Checked at start-up, before every scrub, and by the scrub
/// retry loop at least every MigModeCheckInterval. Entering MIG mode also marks the device dirty, so that once MIG is off it
/// is offered again only after a verified scrub. Each change is a log event, a metric and a Node Event.
/// </summary>
public sealed partial class MigModeMonitor
{
    private readonly IGpuBackend _backend;
    private readonly DeviceInventory _inventory;
    private readonly ClaimJournal _journal;
    private readonly NodeEvents _events;
    private readonly ILogger<MigModeMonitor> _logger;
    private readonly Counter _changes;

    public MigModeMonitor(IGpuBackend backend, DeviceInventory inventory, ClaimJournal journal, NodeEvents events, MetricsRegistry metrics, ILogger<MigModeMonitor> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _backend = backend;
        _inventory = inventory;
        _journal = journal;
        _events = events;
        _logger = logger;
        _changes = metrics.Counter("securedra_mig_mode_withdrawals_total", "GPUs withdrawn because MIG mode is enabled or pending (withdrawn), and returned to the scrub queue when it is off (returned).", "change");
    }

    /// <summary>Applies every device's MIG mode; <paramref name="enumerated"/> null: asks the backend.</summary>
    public async Task RefreshAsync(IReadOnlyList<GpuDevice>? enumerated, CancellationToken cancellationToken)
    {
        enumerated ??= await _backend.EnumerateAsync(cancellationToken).ConfigureAwait(false);
        foreach (var device in enumerated)
        {
            await ApplyAsync(device, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Asks the backend now; true when the device is in MIG mode (and is withdrawn for it).</summary>
    public async Task<bool> IsEnabledAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        var current = (await _backend.EnumerateAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(d => d.Name == device.Name) ?? device;
        await ApplyAsync(current, cancellationToken).ConfigureAwait(false);
        return current.MigEnabled;
    }

    private async Task ApplyAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        if (!_inventory.SetMigMode(device.Name, device.MigEnabled))
        {
            return;
        }

        // Durable before anyone relies on it: a device that entered MIG mode must not come back Clean after a restart.
        await _journal.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (device.MigEnabled)
        {
            _changes.Inc("withdrawn");
            LogWithdrawn(_logger, device.Name, device.Uuid);
            await _events.RecordAsync(EventSeverity.Warning, "MigModeEnabled",
                $"GPU {device.Name} ({device.Uuid}) has MIG mode enabled or pending: withdrawn from scheduling (MigModeEnabled) until MIG mode is off and a scrub verifies it").ConfigureAwait(false);
        }
        else
        {
            _changes.Inc("returned");
            LogMigOff(_logger, device.Name, device.Uuid);
            await _events.RecordAsync(EventSeverity.Normal, "MigModeDisabled",
                $"GPU {device.Name} ({device.Uuid}) left MIG mode: it returns to scheduling after a verified scrub").ConfigureAwait(false);
        }
    }
}
