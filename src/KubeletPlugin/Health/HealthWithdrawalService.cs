using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.KubeletPlugin.Health;

/// <summary>
/// Connects health to scheduling, both ways:
/// <list type="bullet">
/// <item>an unhealthy GPU is withdrawn exactly as a dirty one is (removed from its slice, or tainted
/// where the cluster supports device taints), and returns when its health clears;</item>
/// <item>the inventory's scrub state (pending or failed) is mirrored into the health stream, so the
/// tenants and operators see why a device left scheduling;</item>
/// <item>recovery: a GPU made unhealthy by an Xid or ECC error that needs a reset comes back only
/// after a successful scrub plus health check (it is still enumerated), tried with backoff while no
/// claim holds it, or after the backend reports it recovered (an operator reset the GPU).</item>
/// </list>
/// </summary>
public sealed partial class HealthWithdrawalService(
    DeviceHealthTracker tracker,
    DeviceInventory inventory,
    ISlicePublication publication,
    DeviceScrub deviceScrub,
    IGpuBackend backend,
    HealthOptions options,
    TimeProvider timeProvider,
    ILogger<HealthWithdrawalService> logger) : BackgroundService
{
    private readonly Dictionary<string, (DateTimeOffset Next, TimeSpan Delay)> _recovery = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = tracker.Subscribe();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Read before the pass: a change during it wakes the next wait at once. Before the
                // inventory exists this waits for its initialization instead of spinning.
                var seen = inventory.Version;
                if (inventory.IsInitialized)
                {
                    MirrorScrubState();
                    await ApplyWithdrawalsAsync(stoppingToken).ConfigureAwait(false);
                    await TryRecoverAsync(stoppingToken).ConfigureAwait(false);
                }

                await ChangeOrTimeout.WaitAsync(NextWake(), timeProvider, stoppingToken,
                    t => inventory.WaitForChangeAsync(seen, t), t => subscription.Changes.ReadAsync(t).AsTask()).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The loop must survive an API outage; the next pass retries.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogPassFailed(logger, ex);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), timeProvider, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void MirrorScrubState()
    {
        foreach (var device in inventory.Snapshot().Devices)
        {
            string? problem = null;
            if (device.Withdrawals.TryGetValue(WithdrawalReason.MigModeEnabled, out var mig))
            {
                problem = $"MigModeEnabled: withdrawn until MIG mode is off and a scrub verifies: {mig}";
            }
            else if (device.Withdrawals.TryGetValue(WithdrawalReason.ScrubFailed, out var failed))
            {
                problem = $"VRAM scrub failed, withdrawn until a scrub verifies: {failed}";
            }
            else if (device.Withdrawals.TryGetValue(WithdrawalReason.VramDirty, out var dirty))
            {
                problem = $"VRAM scrub pending, withdrawn until a scrub verifies: {dirty}";
            }

            tracker.ReportScrubProblem(device.Name, problem);
        }
    }

    /// <summary>Wakes for the next due recovery attempt, and at least every 5 s as a safety net.</summary>
    private TimeSpan NextWake()
    {
        var wait = TimeSpan.FromSeconds(5);
        var now = timeProvider.GetUtcNow();
        foreach (var (next, _) in _recovery.Values)
        {
            var until = next - now;
            if (until < wait)
            {
                wait = until;
            }
        }

        return wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait;
    }

    /// <summary>
    /// Takes every unhealthy device out of the inventory at once (Prepare refuses it from that
    /// moment), then waits a bounded time for the slices to show it: an API server outage must not
    /// hold back the withdrawal of the next device; the publisher keeps retrying on its own.
    /// </summary>
    private async Task ApplyWithdrawalsAsync(CancellationToken ct)
    {
        long target = 0;
        foreach (var device in inventory.Snapshot().Devices)
        {
            var health = tracker.Get(device.Name);
            var gpuUnhealthy = tracker.GpuStatus(device.Name) == DeviceHealthStatus.Unhealthy;
            var withdrawn = device.Withdrawals.ContainsKey(WithdrawalReason.Unhealthy);
            if (gpuUnhealthy && !withdrawn)
            {
                var reason = tracker.GpuMessage(device.Name) is { Length: > 0 } m ? m : health?.Message ?? "unhealthy";
                target = Math.Max(target, inventory.Withdraw(device.Name, WithdrawalReason.Unhealthy, reason));
                _recovery[device.Name] = (timeProvider.GetUtcNow() + options.RecoveryInitial, options.RecoveryInitial);
                LogWithdrawn(logger, device.Name, reason);
            }
            else if (!gpuUnhealthy && withdrawn)
            {
                target = Math.Max(target, inventory.Return(device.Name, WithdrawalReason.Unhealthy));
                _recovery.Remove(device.Name);
                LogReturned(logger, device.Name);
            }
            else if (gpuUnhealthy && !_recovery.ContainsKey(device.Name))
            {
                _recovery[device.Name] = (timeProvider.GetUtcNow() + options.RecoveryInitial, options.RecoveryInitial);
            }
        }

        if (target == 0)
        {
            return;
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(options.PublishWait);
        try
        {
            await publication.WaitForPublishedAsync(target, bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            LogPublishPending(logger, options.PublishWait.TotalSeconds);
        }
    }

    private async Task TryRecoverAsync(CancellationToken ct)
    {
        var now = timeProvider.GetUtcNow();
        foreach (var (name, (next, delay)) in _recovery.ToArray())
        {
            if (now < next || tracker.GpuStatus(name) != DeviceHealthStatus.Unhealthy)
            {
                continue;
            }

            var grown = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.RecoveryMax.Ticks));
            _recovery[name] = (now + grown, grown);

            // Health check: the GPU must still be there. Then a scrub, but only while no claim holds it.
            var present = (await backend.EnumerateAsync(ct).ConfigureAwait(false)).FirstOrDefault(d => d.Name == name);
            if (present is null)
            {
                continue;
            }

            ScrubOutcome? outcome;
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                deadline.CancelAfter(options.RecoveryScrubTimeout);
                outcome = await deviceScrub.TryRunAsync(present, claimUid: null, ScrubTrigger.Health, deadline.Token).ConfigureAwait(false);
            }

            if (outcome is { Clean: true })
            {
                tracker.Report(name, DeviceHealthStatus.Healthy, "");
                LogRecovered(logger, name);
            }
        }
    }
}
