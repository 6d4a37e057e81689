using Microsoft.Extensions.Logging;
using SecureDra.Kube.Events;
using SecureDra.Nvml.Backends.Confidential;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// The node's confidential-computing state (Hopper CC mode), read at start-up and by
/// <see cref="ConfidentialComputeLoop"/>: exported as metrics; while CC is on and the driver does not
/// report the GPUs ready, every GPU is withdrawn with reason CcNotReady (returned when ready). The
/// scrub runs either way: CC changes who can read memory from outside, not what a later tenant
/// inherits. <see cref="CcEnabled"/> makes MIG refuse to partition (MigPartitionSetup).
/// </summary>
public sealed partial class ConfidentialComputeMonitor
{
    private readonly DeviceInventory _inventory;
    private readonly NodeEvents _events;
    private readonly ILogger<ConfidentialComputeMonitor> _logger;
    private readonly IConfidentialComputeBackend? _backend;
    private readonly ConfidentialComputeAttributes? _attributes;
    private readonly Gauge _state;
    private readonly Lock _lock = new();
    private ConfidentialComputeState _last = ConfidentialComputeState.Unsupported;
    private bool? _notReady;
    private bool _devToolsSeen;

    public ConfidentialComputeMonitor(DeviceInventory inventory, NodeEvents events, MetricsRegistry metrics, ILogger<ConfidentialComputeMonitor> logger, IConfidentialComputeBackend? backend = null, ConfidentialComputeAttributes? attributes = null)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _inventory = inventory;
        _events = events;
        _logger = logger;
        _backend = backend;
        _attributes = attributes;
        _state = metrics.Gauge("securedra_cc_state", "Confidential computing as the driver reports it (1 = true): supported, cc_enabled, devtools_mode, gpus_ready.", "field");
    }

    public ConfidentialComputeState Last
    {
        get { lock (_lock) { return _last; } }
    }

    public bool CcEnabled => Last is { Supported: true, CcEnabled: true };

    /// <summary>Reads the state and applies it to every device; a read failure counts as not ready while CC was last seen on.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (_backend is null)
        {
            return;
        }

        ConfidentialComputeState state;
        try
        {
            state = await _backend.GetConfidentialComputeStateAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or OperationCanceledException))
        {
            // Whatever NVML answers (uninitialized, a missing symbol): CC last seen on stays not ready; never a failed start-up.
            LogReadFailed(_logger, ex.Message);
            state = Last with { GpusReady = null };
        }

        bool changed;
        bool devToolsChanged;
        var devTools = state.Supported && state.DevToolsMode;
        lock (_lock)
        {
            _last = state;
            changed = _notReady != state.NotReady;
            _notReady = state.NotReady;
            devToolsChanged = _devToolsSeen != devTools;
            _devToolsSeen = devTools;
        }

        if (devToolsChanged && devTools)
        {
            // Not a withdrawal (the scrub still runs and the tenant boundary is the same), but the operator must know:
            // `securedra audit` reports it from the published attribute (cc-devtools-mode).
            LogDevToolsOn(_logger, state.Environment.ToString());
        }
        else if (devToolsChanged)
        {
            LogDevToolsOff(_logger);
        }

        if (_attributes?.Update(state) == true)
        {
            // The attributes are rendered beside the inventory: publish again even where no device changed state.
            _inventory.NotifyRenderedChange();
        }

        _state.Set(state.Supported ? 1 : 0, "supported");
        _state.Set(state.CcEnabled ? 1 : 0, "cc_enabled");
        _state.Set(state.DevToolsMode ? 1 : 0, "devtools_mode");
        _state.Set(state.GpusReady == true ? 1 : 0, "gpus_ready");

        foreach (var device in _inventory.Snapshot().Devices)
        {
            if (state.NotReady)
            {
                _inventory.Withdraw(device.Name, WithdrawalReason.CcNotReady, $"confidential computing is on ({state.Environment}) and the driver does not report the GPUs ready to accept work");
            }
            else
            {
                _inventory.Return(device.Name, WithdrawalReason.CcNotReady);
            }
        }

        if (!changed)
        {
            return;
        }

        if (state.NotReady)
        {
            LogNotReady(_logger, state.Environment.ToString(), state.DevToolsMode);
            await _events.RecordAsync(EventSeverity.Warning, "CcNotReady", "Confidential computing is on and the GPUs are not ready: every GPU is withdrawn (CcNotReady) until they are").ConfigureAwait(false);
        }
        else if (state.CcEnabled)
        {
            LogReady(_logger, state.Environment.ToString(), state.DevToolsMode);
        }
    }
}
