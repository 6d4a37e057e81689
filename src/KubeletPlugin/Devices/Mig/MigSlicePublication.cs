using Microsoft.Extensions.Logging;
using SecureDra.Kube.Events;
using SecureDra.Kube.Resources;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// Publishes partitioned GPUs as the mode says. Dynamic, where the API server keeps counters:
/// each GPU's counter set, the whole GPU (consuming every counter) and every placement, each left
/// out or tainted by its own withdrawals (a dirty slice withdraws every device that uses it).
/// Dynamic without counters: no placement is published (the scheduler could not keep overlapping
/// placements apart), the GPUs stay as plain devices (withdrawn while MIG mode is on), and the
/// fallback is logged, counted and recorded as a Node Event once. Static: each existing instance
/// as NVIDIA's static MIG device, with its MIG UUID.
/// </summary>
public sealed partial class MigSlicePublication : IMigSlicePublication
{
    private readonly MigMode _mode;
    private readonly MigDeviceRenderer _renderer;
    private readonly NodeEvents? _events;
    private readonly ILogger<MigSlicePublication> _logger;
    private readonly Counter _fallbacks;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, string> _instanceUuids = new(StringComparer.Ordinal);
    private bool _fellBack;

    public MigSlicePublication(MigMode mode, MigDeviceRenderer renderer, MetricsRegistry metrics, ILogger<MigSlicePublication> logger, NodeEvents? events = null)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _mode = mode;
        _renderer = renderer;
        _events = events;
        _logger = logger;
        _fallbacks = metrics.Counter("securedra_mig_partitionable_fallbacks_total", "Times dynamic MIG fell back because the API server dropped or refused sharedCounters/consumesCounters, or its version has none.", "reason");
    }

    /// <summary>Static mode: the MIG UUID of the instance behind a placement device (set when instances are read).</summary>
    public void SetInstanceUuid(string deviceName, string migUuid)
    {
        lock (_lock)
        {
            _instanceUuids[deviceName] = migUuid;
        }
    }

    public MigSliceContent Render(InventorySnapshot snapshot, IReadOnlyList<SliceDevice> wholeDevices, string? taintEffect, int maxTaintsPerDevice, bool countersUsable)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(wholeDevices);
        if (_mode == MigMode.Off || snapshot.Partitions.Count == 0)
        {
            return new MigSliceContent([], wholeDevices);
        }

        if (_mode == MigMode.Static)
        {
            var devices = wholeDevices.ToList();
            foreach (var partition in snapshot.Partitions)
            {
                foreach (var p in partition.Placements)
                {
                    string? uuid;
                    lock (_lock)
                    {
                        uuid = _instanceUuids.GetValueOrDefault(p.Name);
                    }

                    if (uuid is not null && Taints(p.Withdrawals, taintEffect, maxTaintsPerDevice) is { } taints)
                    {
                        devices.Add(_renderer.StaticInstance(partition.Gpu, new MigInstanceInfo(uuid, p.Profile, p.Placement, -1, -1), taints));
                    }
                }
            }

            return new MigSliceContent([], devices);
        }

        if (!countersUsable)
        {
            Fallback("the API server has no partitionable devices (Kubernetes before 1.33, unknown version, or sharedCounters dropped)");
            return new MigSliceContent([], wholeDevices);
        }

        var partitionedNames = snapshot.Partitions.Select(p => p.Gpu.Name).ToHashSet(StringComparer.Ordinal);
        var wholeByName = wholeDevices.ToDictionary(d => d.Name, StringComparer.Ordinal);
        var partitioned = new List<MigPartitionedGpu>();
        foreach (var partition in snapshot.Partitions)
        {
            var devices = new List<SliceDevice>();
            if (wholeByName.TryGetValue(partition.Gpu.Name, out var whole))
            {
                devices.Add(_renderer.WholeGpu(partition.Gpu, partition.Profiles, whole.Taints));
            }

            foreach (var p in partition.Placements)
            {
                if (Taints(p.Withdrawals, taintEffect, maxTaintsPerDevice) is { } taints)
                {
                    devices.Add(_renderer.Placement(partition.Gpu, p.Profile, p.Placement, taints));
                }
            }

            partitioned.Add(new MigPartitionedGpu(MigDeviceRenderer.CounterSet(partition.Gpu, partition.Profiles), devices));
        }

        return new MigSliceContent(partitioned, [.. wholeDevices.Where(d => !partitionedNames.Contains(d.Name))]);
    }

    public void CountersRejected(string reason) => Fallback(reason);

    /// <summary>The taints for a device's withdrawals, empty when it is offered; null when it must be left out.</summary>
    private static IReadOnlyList<DeviceTaint>? Taints(IReadOnlyDictionary<WithdrawalReason, string> withdrawals, string? effect, int max)
    {
        if (withdrawals.Count == 0)
        {
            return [];
        }

        if (effect is null || withdrawals.Count > max)
        {
            return null;
        }

        return [.. withdrawals.Keys.Order().Select(r => new DeviceTaint(DeviceTaintKeys.For(r), null, effect))];
    }

    private void Fallback(string reason)
    {
        lock (_lock)
        {
            if (_fellBack)
            {
                return;
            }

            _fellBack = true;
        }

        _fallbacks.Inc("counters-unavailable");
        LogFallback(_logger, reason);
        if (_events is not null)
        {
            _ = _events.RecordAsync(EventSeverity.Warning, "MigDynamicFallback",
                $"Dynamic MIG is not usable ({reason}): MIG placements are not published; GPUs in MIG mode stay withdrawn (MigModeEnabled)");
        }
    }
}
