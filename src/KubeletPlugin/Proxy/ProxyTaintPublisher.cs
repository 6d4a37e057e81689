using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Kube.Resources;
using SecureDra.Kube.Taints;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>
/// The proxy's withdrawal towards the scheduler, without owning the vendor's slices: for every GPU the inventory
/// withdraws (dirty after a failed scrub, unproven, unhealthy, MIG mode), a DeviceTaintRule with effect NoSchedule on
/// each vendor device of that GPU (<c>{driver, pool, device}</c>, found through the vendor's slices); a GPU that is offered
/// again (a verified retry) has its rules removed. Where <c>resource.k8s.io</c> serves no DeviceTaintRule, or with
/// <c>--device-taint-rules=false</c>, the proxy's own refusal at Prepare is the barrier and every inventory version
/// counts as published at once.
/// </summary>
public sealed partial class ProxyTaintPublisher(
    DeviceInventory inventory,
    IResourceApi api,
    ProxyOptions options,
    KubeletPluginOptions plugin,
    PipelineStartup startup,
    MetricsRegistry metrics,
    TimeProvider time,
    ILogger<ProxyTaintPublisher> logger,
    IDeviceTaintRuleWriter? writer = null) : BackgroundService, ISlicePublication
{
    private readonly HashSet<DeviceTaintRuleTarget> _applied = [];
    private readonly Counter _writes = metrics.Counter("securedra_proxy_device_taint_rule_writes_total", "DeviceTaintRule writes by the proxy, by outcome.", "outcome");
    private readonly Lock _lock = new();
    private readonly VersionWatermark _published = new(-1);
    private bool _firstPass = true;

    public long PublishedVersion => _published.Value;

    /// <summary>Rules this process has in place, for tests and /metrics.</summary>
    public IReadOnlyCollection<DeviceTaintRuleTarget> Applied
    {
        get
        {
            lock (_lock)
            {
                return [.. _applied];
            }
        }
    }

    public Task WaitForPublishedAsync(long inventoryVersion, CancellationToken cancellationToken) =>
        _published.WaitForAsync(inventoryVersion, cancellationToken);

    /// <summary>One reconcile at the inventory's current version; the loop runs it after every change.</summary>
    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var snapshot = inventory.Snapshot();
        if (writer is null || !options.DeviceTaintRules || (await writer.DiscoverAsync(cancellationToken).ConfigureAwait(false)).Version is null)
        {
            _published.Raise(snapshot.Version);
            return;
        }

        var slices = await api.ListSlicesAsync(options.VendorDriverName, plugin.NodeName, cancellationToken).ConfigureAwait(false);
        var gpus = snapshot.Devices.ToDictionary(d => d.Device.Uuid, StringComparer.OrdinalIgnoreCase);
        var desired = new Dictionary<DeviceTaintRuleTarget, string>();
        var clean = new List<DeviceTaintRuleTarget>();
        foreach (var slice in slices)
        {
            foreach (var device in slice.Devices)
            {
                var uuid = Attribute(device, "parentUUID") ?? Attribute(device, "uuid");
                if (uuid is null || !gpus.TryGetValue(uuid, out var gpu))
                {
                    continue;
                }

                var target = new DeviceTaintRuleTarget(options.VendorDriverName, slice.PoolName, device.Name);
                if (gpu.IsWithdrawn)
                {
                    var (reason, detail) = gpu.Withdrawals.First();
                    desired[target] = DeviceTaintKeys.For(reason) + "|" + detail;
                }
                else
                {
                    clean.Add(target);
                }
            }
        }

        List<DeviceTaintRuleTarget> stale;
        lock (_lock)
        {
            // After a restart this process does not know which rules it wrote: the first pass removes any on clean devices.
            stale = [.. (_firstPass ? clean : _applied.Where(t => !desired.ContainsKey(t)))];
        }

        var ok = true;
        foreach (var (target, keyAndReason) in desired)
        {
            var split = keyAndReason.IndexOf('|', StringComparison.Ordinal);
            var result = await writer.ApplyAsync(target, keyAndReason[..split], keyAndReason[(split + 1)..], cancellationToken).ConfigureAwait(false);
            ok &= Record(target, result, applied: true);
        }

        foreach (var target in stale)
        {
            var result = await writer.RemoveAsync(target, cancellationToken).ConfigureAwait(false);
            ok &= Record(target, result, applied: false);
        }

        if (ok)
        {
            lock (_lock)
            {
                _firstPass = false;
            }

            _published.Raise(snapshot.Version);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await startup.WaitUntilReadyAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var seen = inventory.Version;
            try
            {
                await ReconcileAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _writes.Inc("error");
                LogReconcileFailed(ex.Message);
            }

            var delay = PublishedVersion >= seen ? TimeSpan.FromSeconds(30) : TimeSpan.FromSeconds(1);
            await ChangeOrTimeout.WaitAsync(delay, time, stoppingToken, t => inventory.WaitForChangeAsync(seen, t)).ConfigureAwait(false);
        }
    }

    private bool Record(DeviceTaintRuleTarget target, DeviceTaintRuleResult result, bool applied)
    {
        _writes.Inc(result.Outcome.ToString().ToLowerInvariant());
        if (result.Outcome == DeviceTaintRuleOutcome.NotServed)
        {
            return true; // the refusal at Prepare is the barrier
        }

        if (!result.Succeeded)
        {
            LogWriteFailed(target.ToString(), result.Message);
            return false;
        }

        lock (_lock)
        {
            if (applied)
            {
                _applied.Add(target);
            }
            else
            {
                _applied.Remove(target);
            }
        }

        if (result.Outcome is DeviceTaintRuleOutcome.Applied or DeviceTaintRuleOutcome.Updated)
        {
            LogApplied(target.ToString(), result.Name);
        }
        else if (result.Outcome == DeviceTaintRuleOutcome.Removed && !applied)
        {
            LogRemoved(target.ToString(), result.Name);
        }

        return true;
    }

    private string? Attribute(SliceDevice device, string name) =>
        device.Attributes.TryGetValue(name, out var value) ? value.String
        : device.Attributes.TryGetValue(options.VendorDriverName + "/" + name, out value) ? value.String
        : null;
}
