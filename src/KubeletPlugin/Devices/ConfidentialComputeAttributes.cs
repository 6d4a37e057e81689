using SecureDra.Api;
using SecureDra.Kube.Resources;
using SecureDra.Nvml.Backends.Confidential;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// The node's confidential-computing state as device attributes, on every published device (whole GPUs and MIG
/// devices), so a DeviceClass or claim can select on it. NVIDIA's DRA driver publishes no CC attribute, and this
/// driver publishes under NVIDIA's driver name, where an unqualified name would mean <c>gpu.nvidia.com/…</c> and
/// could collide with an attribute NVIDIA adds later; so the names are qualified with <c>securedra.io</c>.
/// Nothing is rendered until the state was read once (no backend: no attributes), so a node without the CC
/// functions publishes what it always did. The values come from <see cref="ConfidentialComputeMonitor"/>.
/// </summary>
public sealed class ConfidentialComputeAttributes
{
    /// <summary>True when the driver reports CC on (ccFeature enabled).</summary>
    public const string Enabled = ConfidentialComputeAttributeNames.Enabled;

    /// <summary>True when the driver reports CC devtools mode: memory protections relaxed for debugging (an audit finding).</summary>
    public const string DevToolsMode = ConfidentialComputeAttributeNames.DevToolsMode;

    /// <summary>False only while CC is on and the driver does not report the GPUs ready (they are withdrawn, CcNotReady, then).</summary>
    public const string Ready = ConfidentialComputeAttributeNames.Ready;

    public static IReadOnlyList<string> Names { get; } = [Enabled, DevToolsMode, Ready];

    private readonly Lock _lock = new();
    private Values? _values;

    /// <summary>Records the state; true when what is rendered changed (the slices must be published again).</summary>
    public bool Update(ConfidentialComputeState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var values = new Values(state.Supported && state.CcEnabled, state.Supported && state.DevToolsMode, !state.NotReady);
        lock (_lock)
        {
            var changed = _values != values;
            _values = values;
            return changed;
        }
    }

    /// <summary>What <see cref="AddTo"/> adds now, compared by value (null before the state was read).</summary>
    public object? State
    {
        get
        {
            lock (_lock)
            {
                return _values;
            }
        }
    }

    /// <summary>Adds the three attributes, once the state was read; nothing before.</summary>
    public void AddTo(IDictionary<string, DeviceAttributeValue> attributes)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        Values? values;
        lock (_lock)
        {
            values = _values;
        }

        if (values is null)
        {
            return;
        }

        attributes[Enabled] = DeviceAttributeValue.Of(values.CcEnabled);
        attributes[DevToolsMode] = DeviceAttributeValue.Of(values.DevToolsMode);
        attributes[Ready] = DeviceAttributeValue.Of(values.Ready);
    }

    private sealed record Values(bool CcEnabled, bool DevToolsMode, bool Ready);
}
