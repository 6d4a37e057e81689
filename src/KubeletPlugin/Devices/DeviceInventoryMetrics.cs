using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// Gauges of the inventory, read from one snapshot at scrape time so they never disagree with it: devices by
/// state, prepared devices (NVIDIA's plugin exposes the same), and withdrawn devices by reason (what the
/// SecureDraDeviceWithdrawn alert watches). Every state and every reason is rendered, 0 included, so an alert
/// sees a series drop to 0 rather than vanish; the label sets are the two enums, closed.
/// </summary>
public static class DeviceInventoryMetrics
{
    public static void Register(MetricsRegistry registry, DeviceInventory inventory)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(inventory);
        var byState = registry.Gauge("securedra_devices", "GPUs on this node by inventory state (docs/isolation.md).", "state");
        var prepared = registry.Gauge("securedra_prepared_devices", "GPUs prepared for a claim now (a container may hold them).");
        var withdrawn = registry.Gauge("securedra_withdrawn_devices", "GPUs kept out of scheduling now, by reason; a GPU withdrawn for two reasons counts under both.", "reason");
        registry.AddCollector("device-inventory", () =>
        {
            var devices = inventory.Snapshot().Devices;
            foreach (var state in Enum.GetValues<DeviceState>())
            {
                byState.Set(devices.Count(d => d.State == state), StateLabel(state));
            }

            prepared.Set(devices.Count(d => d.State == DeviceState.Prepared));
            foreach (var reason in Enum.GetValues<WithdrawalReason>())
            {
                withdrawn.Set(devices.Count(d => d.Withdrawals.ContainsKey(reason)), ReasonLabel(reason));
            }
        });
    }

    public static string StateLabel(DeviceState state) => state switch
    {
        DeviceState.Unknown => "unknown",
        DeviceState.Scrubbing => "scrubbing",
        DeviceState.Clean => "clean",
        DeviceState.Reserved => "reserved",
        DeviceState.Prepared => "prepared",
        DeviceState.Releasing => "releasing",
        DeviceState.Dirty => "dirty",
        _ => "other",
    };

    public static string ReasonLabel(WithdrawalReason reason) => reason switch
    {
        WithdrawalReason.VramDirty => "vram_dirty",
        WithdrawalReason.ScrubFailed => "scrub_failed",
        WithdrawalReason.Unhealthy => "unhealthy",
        WithdrawalReason.MigModeEnabled => "mig_mode_enabled",
        WithdrawalReason.MigManagerUnavailable => "mig_manager_unavailable",
        _ => "other",
    };
}
