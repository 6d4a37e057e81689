using SecureDra.Nvml.Backends;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// Everything a whole-GPU node's slices are rendered from, so that a pass can tell without rendering that an inventory
/// change cannot change what is published: a claim reserving, preparing or releasing a device, or a scrub that leaves
/// it clean, changes none of it. The inputs are the devices in order (by reference: GpuDevice is immutable and a
/// re-enumerated GPU is a new object), which are withdrawn and for which reasons (what the taints name; the reasons'
/// texts are not rendered), how withdrawals are shown, the version's limits, the publication gate and the attributes
/// rendered beside the devices (confidential computing). Rendering and comparing every device on every change took
/// about as much of the plugin's CPU as the claim work itself on a 50-GPU node (docs/performance.md §10.9). A node with
/// partitioned (MIG) GPUs renders from more (placements, counters, memory slices, instance UUIDs) and always renders;
/// without partitions the MIG rendering passes the whole devices through unchanged.
/// </summary>
internal sealed class SliceRenderInputs
{
    private readonly GpuDevice[] _devices;
    private readonly WithdrawalReason[][] _withdrawals;
    private readonly string? _taintEffect;
    private readonly SliceLimits _limits;
    private readonly bool _publicationAllowed;
    private readonly object? _renderedAttributes;

    private SliceRenderInputs(GpuDevice[] devices, WithdrawalReason[][] withdrawals, string? taintEffect, SliceLimits limits, bool publicationAllowed, object? renderedAttributes)
    {
        _devices = devices;
        _withdrawals = withdrawals;
        _taintEffect = taintEffect;
        _limits = limits;
        _publicationAllowed = publicationAllowed;
        _renderedAttributes = renderedAttributes;
    }

    /// <param name="renderedAttributes">Read before rendering: a change after it makes the next pass render again.</param>
    public static SliceRenderInputs Of(InventorySnapshot snapshot, string? taintEffect, SliceLimits limits, bool publicationAllowed, object? renderedAttributes)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var devices = new GpuDevice[snapshot.Devices.Count];
        var withdrawals = new WithdrawalReason[snapshot.Devices.Count][];
        for (var i = 0; i < devices.Length; i++)
        {
            var state = snapshot.Devices[i];
            devices[i] = state.Device;
            withdrawals[i] = state.IsWithdrawn ? [.. state.Withdrawals.Keys.Order()] : [];
        }

        return new SliceRenderInputs(devices, withdrawals, taintEffect, limits, publicationAllowed, renderedAttributes);
    }

    public bool SameAs(SliceRenderInputs other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (_devices.Length != other._devices.Length
            || _taintEffect != other._taintEffect
            || _limits != other._limits
            || _publicationAllowed != other._publicationAllowed
            || !Equals(_renderedAttributes, other._renderedAttributes))
        {
            return false;
        }

        for (var i = 0; i < _devices.Length; i++)
        {
            if (!ReferenceEquals(_devices[i], other._devices[i]) || !_withdrawals[i].AsSpan().SequenceEqual(other._withdrawals[i]))
            {
                return false;
            }
        }

        return true;
    }
}
