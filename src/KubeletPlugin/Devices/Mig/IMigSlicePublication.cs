using SecureDra.Kube.Resources;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// What the slice publisher asks about MIG: which GPUs it publishes as partitionable devices (with
/// their placements) and which devices it publishes plainly (whole GPUs, static MIG instances).
/// </summary>
public interface IMigSlicePublication
{
    /// <param name="wholeDevices">The whole-GPU devices the plain renderer produced (withdrawn ones already left out or tainted).</param>
    /// <param name="countersUsable">The API server keeps sharedCounters; false: no partitionable devices, fall back.</param>
    MigSliceContent Render(InventorySnapshot snapshot, IReadOnlyList<SliceDevice> wholeDevices, string? taintEffect, int maxTaintsPerDevice, bool countersUsable);

    /// <summary>The server dropped or refused counters: record the fallback (log, metric, Node Event).</summary>
    void CountersRejected(string reason);
}

public sealed record MigSliceContent(IReadOnlyList<MigPartitionedGpu> Partitioned, IReadOnlyList<SliceDevice> Others);
