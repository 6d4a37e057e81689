using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.Observability.Metrics;
using Wire = SecureDra.Protocol.MigManager.V1;

namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>
/// Pings the MIG manager every <see cref="MigManagerClientOptions.CheckInterval"/>. From the first failed ping every
/// GPU published as MIG devices is withdrawn with reason <see cref="WithdrawalReason.MigManagerUnavailable"/> (its
/// placements with it; log event 6960, gauge <c>securedra_mig_manager_up</c> 0, counter
/// <c>securedra_mig_manager_unavailable_total</c>), and in static mode every placement no claim holds is recorded
/// Dirty: while the manager was away nothing could watch the instances (an administrator may have destroyed and
/// re-created one, a process may have run on it), so only a verified scrub through the manager brings it back. The
/// first ping that succeeds again lifts the withdrawal (6961); the retry loop then scrubs the dirty placements.
/// </summary>
public sealed partial class MigManagerMonitor : BackgroundService
{
    private readonly MigManagerClient _client;
    private readonly DeviceInventory _inventory;
    private readonly ClaimJournal _journal;
    private readonly ClaimPipelineOptions _pipeline;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Gauge _up;
    private readonly Counter _unavailable;
    private bool? _reachable;

    public MigManagerMonitor(MigManagerClient client, DeviceInventory inventory, ClaimJournal journal, ClaimPipelineOptions pipeline, MetricsRegistry metrics, TimeProvider time, ILogger<MigManagerMonitor> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _client = client;
        _inventory = inventory;
        _journal = journal;
        _pipeline = pipeline;
        _time = time;
        _logger = logger;
        _up = metrics.Gauge("securedra_mig_manager_up", "1 while the MIG manager answers the plugin's pings, else 0 (MIG devices withdrawn, reason MigManagerUnavailable).");
        _unavailable = metrics.Counter("securedra_mig_manager_unavailable_total", "Times the MIG manager stopped answering and MIG devices were withdrawn.");
        _unavailable.Add(0);
    }

    /// <summary>True while the last ping succeeded; null before the first.</summary>
    public bool? Reachable => _reachable;

    /// <summary>One check (the loop's body; tests call it directly).</summary>
    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        string? failure = null;
        try
        {
            await _client.CallAsync("Ping", (c, o) => c.PingAsync(new Wire.PingRequest(), o), _client.Options.CallTimeout, cancellationToken, startupGrace: false).ConfigureAwait(false);
        }
        catch (Nvml.Backends.GpuBackendException e)
        {
            failure = e.Message;
        }

        if (failure is null)
        {
            _up.Set(1);
            if (_reachable != true)
            {
                var returned = Partitioned().Count(gpu => _inventory.Get(gpu)?.Withdrawals.ContainsKey(WithdrawalReason.MigManagerUnavailable) == true);
                foreach (var gpu in Partitioned())
                {
                    _inventory.Return(gpu, WithdrawalReason.MigManagerUnavailable);
                }

                if (_reachable == false)
                {
                    LogReachable(_logger, _client.Options.SocketPath, returned);
                }
            }

            _reachable = true;
            return;
        }

        _up.Set(0);
        if (_reachable == false)
        {
            return;
        }

        _reachable = false;
        _unavailable.Inc();
        var detail = $"the MIG manager at {_client.Options.SocketPath} does not answer: {failure}";
        var gpus = Partitioned();
        foreach (var gpu in gpus)
        {
            _inventory.Withdraw(gpu, WithdrawalReason.MigManagerUnavailable, detail);
        }

        LogUnreachable(_logger, _client.Options.SocketPath, gpus.Count, failure);
        if (_pipeline.MigMode != MigMode.Static)
        {
            // Dynamic placements without an instance hold no tenant memory; one with an instance is held by a claim.
            return;
        }

        var dirty = new List<string>();
        foreach (var placement in _inventory.Snapshot().Partitions.SelectMany(p => p.Placements).Where(p => p.State == DeviceState.Clean && p.ClaimUid is null))
        {
            try
            {
                _inventory.Withdraw(placement.Name, WithdrawalReason.VramDirty, "the MIG manager was unreachable: what ran on this instance meanwhile is unknown, so it is scrubbed again before it is offered");
                dirty.Add(placement.Name);
            }
            catch (InvalidOperationException)
            {
                // Reserved by a claim between the snapshot and here: that claim's release scrubs it.
            }
        }

        if (dirty.Count > 0)
        {
            await _journal.CommitAsync(cancellationToken).ConfigureAwait(false);
            LogMarkedDirty(_logger, dirty.Count, string.Join(", ", dirty.Take(16)));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await CheckAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                // A checkpoint write failed: the withdrawal itself is in memory already; try again next round.
                LogCheckFailed(_logger, e.Message);
            }

            try
            {
                await Task.Delay(_client.Options.CheckInterval, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private List<string> Partitioned() => [.. _inventory.Snapshot().Partitions.Select(p => p.Gpu.Name)];
}
