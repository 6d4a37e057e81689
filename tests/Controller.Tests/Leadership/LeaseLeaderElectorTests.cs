using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SecureDra.Controller.Leadership;
using SecureDra.Controller.Tests.Support;
using SecureDra.Kube.Client;
using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Tests.Leadership;

public sealed class LeaseLeaderElectorTests
{
    private readonly InMemoryKubeApiClient _client = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task First_candidate_creates_the_lease_and_holds_it()
    {
        var elector = Elector("a");
        Assert.Equal(LeaseAttempt.Held, await elector.TryAcquireOrRenewAsync(default));
        var spec = Lease()["spec"]!;
        Assert.Equal("a", (string?)spec["holderIdentity"]);
        Assert.Equal(15, (int)spec["leaseDurationSeconds"]!);
        Assert.Equal("2026-11-23T12:00:00.000000Z", (string?)spec["renewTime"]);
        Assert.Equal(0, (int)spec["leaseTransitions"]!);
    }

    [Fact]
    public async Task Holder_renews_with_a_new_renew_time()
    {
        var elector = Elector("a");
        await elector.TryAcquireOrRenewAsync(default);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(LeaseAttempt.Held, await elector.TryAcquireOrRenewAsync(default));
        Assert.Equal("2026-11-23T12:00:02.000000Z", (string?)Lease()["spec"]!["renewTime"]);
        Assert.Equal(0, (int)Lease()["spec"]!["leaseTransitions"]!);
    }

    [Fact]
    public async Task Second_candidate_waits_while_the_lease_is_valid_and_takes_it_once_expired()
    {
        var a = Elector("a");
        var b = Elector("b");
        await a.TryAcquireOrRenewAsync(default);
        Assert.Equal(LeaseAttempt.HeldByOther, await b.TryAcquireOrRenewAsync(default));
        _time.Advance(TimeSpan.FromSeconds(14));
        Assert.Equal(LeaseAttempt.HeldByOther, await b.TryAcquireOrRenewAsync(default));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(LeaseAttempt.Held, await b.TryAcquireOrRenewAsync(default));
        Assert.Equal("b", (string?)Lease()["spec"]!["holderIdentity"]);
        Assert.Equal(1, (int)Lease()["spec"]!["leaseTransitions"]!);

        // The old holder now sees another valid holder and does not take it back.
        Assert.Equal(LeaseAttempt.HeldByOther, await a.TryAcquireOrRenewAsync(default));
    }

    [Fact]
    public async Task A_renewing_holder_keeps_the_lease_however_long_it_runs()
    {
        var a = Elector("a");
        var b = Elector("b");
        await a.TryAcquireOrRenewAsync(default);
        for (var i = 0; i < 20; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(2));
            Assert.Equal(LeaseAttempt.Held, await a.TryAcquireOrRenewAsync(default));
            Assert.Equal(LeaseAttempt.HeldByOther, await b.TryAcquireOrRenewAsync(default));
        }
    }

    [Fact]
    public async Task Expiry_is_judged_by_local_observation_not_by_the_holders_clock()
    {
        // A holder whose clock is an hour behind writes an old renewTime; it is still valid until we have watched it
        // not change for a whole lease duration.
        _client.Seed(KubeResource.Leases, JsonNode.Parse("""
            {"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"securedra-controller","namespace":"securedra"},
             "spec":{"holderIdentity":"skewed","leaseDurationSeconds":15,"renewTime":"2026-11-23T11:00:00.000000Z","leaseTransitions":3}}
            """)!.AsObject());
        var b = Elector("b");
        Assert.Equal(LeaseAttempt.HeldByOther, await b.TryAcquireOrRenewAsync(default));
        _time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(LeaseAttempt.Held, await b.TryAcquireOrRenewAsync(default));
        Assert.Equal(4, (int)Lease()["spec"]!["leaseTransitions"]!);
    }

    [Fact]
    public async Task Conflict_on_renew_fails_the_attempt_and_the_next_round_sees_the_new_holder()
    {
        var a = Elector("a");
        await a.TryAcquireOrRenewAsync(default);
        _client.BeforeUpdate = (_, _) =>
        {
            _client.BeforeUpdate = null;
            var lease = _client.Peek(KubeResource.Leases, "securedra", "securedra-controller")!;
            lease["spec"]!["holderIdentity"] = "intruder";
            lease["spec"]!["renewTime"] = "2026-11-23T12:00:01.000000Z";
            _client.Seed(KubeResource.Leases, lease);
        };
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(LeaseAttempt.Failed, await a.TryAcquireOrRenewAsync(default));
        Assert.Equal(LeaseAttempt.HeldByOther, await a.TryAcquireOrRenewAsync(default));
    }

    [Fact]
    public async Task Create_race_lost_is_a_failed_attempt_not_an_error()
    {
        var a = Elector("a");
        _client.FailNext = r => r.Plural == "leases" ? new KubeApiException(HttpStatusCode.Conflict, "AlreadyExists", "leases \"securedra-controller\" already exists") : null;
        Assert.Equal(LeaseAttempt.Failed, await a.TryAcquireOrRenewAsync(default));
    }

    [Fact]
    public async Task Release_clears_the_holder_so_another_replica_can_take_over_quickly()
    {
        var a = Elector("a");
        var b = Elector("b");
        await a.TryAcquireOrRenewAsync(default);
        Assert.Equal(LeaseAttempt.HeldByOther, await b.TryAcquireOrRenewAsync(default));
        await a.ReleaseAsync(default);
        Assert.Null((string?)Lease()["spec"]!["holderIdentity"]);
        Assert.Equal(1, (int)Lease()["spec"]!["leaseDurationSeconds"]!);
        Assert.Equal(LeaseAttempt.Held, await b.TryAcquireOrRenewAsync(default));
    }

    [Fact]
    public async Task Release_by_a_non_holder_changes_nothing()
    {
        var a = Elector("a");
        var b = Elector("b");
        await a.TryAcquireOrRenewAsync(default);
        await b.ReleaseAsync(default);
        Assert.Equal("a", (string?)Lease()["spec"]!["holderIdentity"]);
    }

    [Fact]
    public async Task Run_leads_steps_down_when_taken_over_and_releases_on_shutdown()
    {
        var state = new LeadershipState();
        var options = new LeaderElectionOptions { Identity = "a", RetryPeriod = TimeSpan.FromMilliseconds(20), RenewDeadline = TimeSpan.FromMilliseconds(200), LeaseDuration = TimeSpan.FromSeconds(15) };
        var elector = new LeaseLeaderElector(_client, options, TimeProvider.System, state, new MetricsRegistry(), NullLogger<LeaseLeaderElector>.Instance);
        using var stop = new CancellationTokenSource();
        var run = elector.RunAsync(stop.Token);

        var term = await state.WaitForLeadershipAsync(default).WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(state.IsLeader);

        // Another replica takes the lease (as if ours had expired): the term ends.
        var lease = _client.Peek(KubeResource.Leases, "securedra", "securedra-controller")!;
        lease["spec"]!["holderIdentity"] = "b";
        lease["spec"]!["renewTime"] = "2026-11-23T12:00:09.000000Z";
        _client.Seed(KubeResource.Leases, lease);
        await WaitAsync(term);
        Assert.False(state.IsLeader);

        // b stops renewing and releases; a leads again, then shuts down and releases.
        lease = _client.Peek(KubeResource.Leases, "securedra", "securedra-controller")!;
        lease["spec"]!["holderIdentity"] = null;
        _client.Seed(KubeResource.Leases, lease);
        await state.WaitForLeadershipAsync(default).WaitAsync(TimeSpan.FromSeconds(5));
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(state.IsLeader);
        Assert.Null((string?)Lease()["spec"]!["holderIdentity"]);
    }

    [Fact]
    public async Task Run_steps_down_when_renewals_fail_past_the_renew_deadline()
    {
        var state = new LeadershipState();
        var options = new LeaderElectionOptions { Identity = "a", RetryPeriod = TimeSpan.FromMilliseconds(20), RenewDeadline = TimeSpan.FromMilliseconds(150) };
        var elector = new LeaseLeaderElector(_client, options, TimeProvider.System, state, new MetricsRegistry(), NullLogger<LeaseLeaderElector>.Instance);
        using var stop = new CancellationTokenSource();
        var run = elector.RunAsync(stop.Token);
        var term = await state.WaitForLeadershipAsync(default).WaitAsync(TimeSpan.FromSeconds(5));

        // The API server starts failing every update.
        _client.BeforeUpdate = (_, _) => _client.FailNext = _ => new KubeApiException(HttpStatusCode.ServiceUnavailable, "ServiceUnavailable", "etcd is down");
        await WaitAsync(term);
        Assert.False(state.IsLeader);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(5));
    }

    private static async Task WaitAsync(CancellationToken token)
    {
        var ended = new TaskCompletionSource();
        using (token.Register(() => ended.TrySetResult()))
        {
            await ended.Task.WaitAsync(TimeSpan.FromSeconds(5));
        }
    }

    private LeaseLeaderElector Elector(string identity) => new(
        _client,
        new LeaderElectionOptions { Identity = identity },
        _time,
        new LeadershipState(),
        new MetricsRegistry(),
        NullLogger<LeaseLeaderElector>.Instance);

    private JsonObject Lease() => _client.Peek(KubeResource.Leases, "securedra", "securedra-controller")!;
}
