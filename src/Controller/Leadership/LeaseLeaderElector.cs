using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using SecureDra.Controller.Audit;
using SecureDra.Kube.Client;
using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Leadership;

/// <summary>
/// Leader election on a coordination.k8s.io/v1 Lease, the algorithm of client-go's leaderelection: optimistic
/// concurrency on resourceVersion, and expiry judged by when this process last saw the lease change (its own clock),
/// never by comparing the holder's timestamps with ours, so clock skew between nodes cannot make two leaders.
/// </summary>
public sealed partial class LeaseLeaderElector
{
    private readonly IKubeApiClient _client;
    private readonly LeaderElectionOptions _options;
    private readonly TimeProvider _time;
    private readonly LeadershipState _state;
    private readonly ILogger _logger;
    private readonly Gauge _leaderGauge;
    private string? _observedRecord;
    private DateTimeOffset _observedAt;

    public LeaseLeaderElector(IKubeApiClient client, LeaderElectionOptions options, TimeProvider timeProvider, LeadershipState state, MetricsRegistry metrics, ILogger<LeaseLeaderElector> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _client = client;
        _options = options;
        _time = timeProvider;
        _state = state;
        _logger = logger;
        _leaderGauge = metrics.Gauge("securedra_controller_leader", "1 while this controller replica holds the leader lease.");
    }

    public string Identity => _options.Identity;

    /// <summary>Campaigns, leads, steps down on loss and campaigns again, until the token fires; then releases the lease.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                while (await TryAcquireOrRenewAsync(cancellationToken).ConfigureAwait(false) != LeaseAttempt.Held)
                {
                    await Task.Delay(_options.RetryPeriod, _time, cancellationToken).ConfigureAwait(false);
                }

                Lead();
                var lastRenew = _time.GetUtcNow();
                while (true)
                {
                    await Task.Delay(_options.RetryPeriod, _time, cancellationToken).ConfigureAwait(false);
                    var attempt = await TryAcquireOrRenewAsync(cancellationToken).ConfigureAwait(false);
                    if (attempt == LeaseAttempt.Held)
                    {
                        lastRenew = _time.GetUtcNow();
                        continue;
                    }

                    if (attempt == LeaseAttempt.HeldByOther || _time.GetUtcNow() - lastRenew >= _options.RenewDeadline)
                    {
                        StepDown(attempt == LeaseAttempt.HeldByOther ? "another holder took the lease" : "renew deadline passed");
                        break;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (KubeApiException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped while the API server was failing: the renewal's error is not news, the shutdown is. (Seen as a
            // flake of the renew-deadline test: the failing update raced the stop and escaped RunAsync.)
        }
        finally
        {
            if (_state.IsLeader)
            {
                StepDown("shutting down");
                using var releaseTimeout = new CancellationTokenSource(_options.RetryPeriod, _time);
                await ReleaseAsync(releaseTimeout.Token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>One round trip: create the lease, renew ours, or take an expired one.</summary>
    public async Task<LeaseAttempt> TryAcquireOrRenewAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        try
        {
            var lease = await _client.GetAsync(KubeResource.Leases, _options.Namespace, _options.LeaseName, cancellationToken).ConfigureAwait(false);
            if (lease is null)
            {
                var created = await _client.CreateAsync(KubeResource.Leases, _options.Namespace, NewLease(now), cancellationToken).ConfigureAwait(false);
                Observe(created, now);
                return LeaseAttempt.Held;
            }

            Observe(lease, now);
            var holder = JsonAccess.String(lease, "spec", "holderIdentity");
            var duration = JsonAccess.Node(lease, "spec", "leaseDurationSeconds") is JsonValue d && d.TryGetValue<int>(out var seconds)
                ? TimeSpan.FromSeconds(seconds)
                : _options.LeaseDuration;
            var ours = holder == _options.Identity;
            if (!ours && !string.IsNullOrEmpty(holder) && _observedAt + duration > now)
            {
                return LeaseAttempt.HeldByOther;
            }

            var spec = lease["spec"] as JsonObject ?? [];
            lease["spec"] = spec;
            if (!ours)
            {
                spec["acquireTime"] = MicroTime(now);
                var transitions = JsonAccess.Node(spec, "leaseTransitions") is JsonValue t && t.TryGetValue<int>(out var n) ? n : 0;
                spec["leaseTransitions"] = transitions + 1;
            }

            spec["holderIdentity"] = _options.Identity;
            spec["leaseDurationSeconds"] = (int)_options.LeaseDuration.TotalSeconds;
            spec["renewTime"] = MicroTime(now);
            var updated = await _client.UpdateAsync(KubeResource.Leases, _options.Namespace, _options.LeaseName, lease, cancellationToken).ConfigureAwait(false);
            Observe(updated, now);
            if (!ours)
            {
                ControllerLog.LeaderLeaseAcquired(_logger, _options.Namespace, _options.LeaseName, _options.Identity, holder);
            }

            return LeaseAttempt.Held;
        }
        catch (KubeApiException e) when (!cancellationToken.IsCancellationRequested)
        {
            // 409 on create (someone else created it) or on update (someone else renewed it first) is the normal race.
            if (!e.IsConflict && e.Reason != "AlreadyExists")
            {
                // The message says it all (status, reason, path); a stack trace of a refused connection helps no one.
                LogLeaseRoundTripFailed(_logger, _options.Namespace, _options.LeaseName, e.Message.ReplaceLineEndings(" "));
            }

            return LeaseAttempt.Failed;
        }
    }

    /// <summary>Gives the lease up so another replica takes over at once instead of after the lease duration.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        try
        {
            var lease = await _client.GetAsync(KubeResource.Leases, _options.Namespace, _options.LeaseName, cancellationToken).ConfigureAwait(false);
            if (lease?["spec"] is not JsonObject spec || JsonAccess.String(spec, "holderIdentity") != _options.Identity)
            {
                return;
            }

            var now = _time.GetUtcNow();
            spec["holderIdentity"] = null;
            spec["leaseDurationSeconds"] = 1;
            spec["renewTime"] = MicroTime(now);
            await _client.UpdateAsync(KubeResource.Leases, _options.Namespace, _options.LeaseName, lease, cancellationToken).ConfigureAwait(false);
            ControllerLog.LeaderLeaseReleased(_logger, _options.Namespace, _options.LeaseName);
        }
        catch (Exception e) when (e is KubeApiException or OperationCanceledException)
        {
            ControllerLog.LeaderLeaseReleaseFailed(_logger, e, _options.Namespace, _options.LeaseName, _options.LeaseDuration);
        }
    }

    private void Lead()
    {
        _leaderGauge.Set(1);
        _state.Started();
        ControllerLog.Leading(_logger, _options.Identity);
    }

    private void StepDown(string why)
    {
        _leaderGauge.Set(0);
        _state.Stopped();
        ControllerLog.StoppedLeading(_logger, why);
    }

    private void Observe(JsonObject lease, DateTimeOffset now)
    {
        var record = $"{JsonAccess.String(lease, "spec", "holderIdentity")}|{JsonAccess.String(lease, "spec", "renewTime")}|{JsonAccess.Node(lease, "spec", "leaseDurationSeconds")?.ToJsonString()}";
        if (record != _observedRecord)
        {
            _observedRecord = record;
            _observedAt = now;
        }
    }

    private JsonObject NewLease(DateTimeOffset now) => new()
    {
        ["apiVersion"] = "coordination.k8s.io/v1",
        ["kind"] = "Lease",
        ["metadata"] = new JsonObject { ["name"] = _options.LeaseName, ["namespace"] = _options.Namespace },
        ["spec"] = new JsonObject
        {
            ["holderIdentity"] = _options.Identity,
            ["leaseDurationSeconds"] = (int)_options.LeaseDuration.TotalSeconds,
            ["acquireTime"] = MicroTime(now),
            ["renewTime"] = MicroTime(now),
            ["leaseTransitions"] = 0,
        },
    };

    /// <summary>metav1.MicroTime: RFC 3339 with microseconds, UTC.</summary>
    private static string MicroTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
