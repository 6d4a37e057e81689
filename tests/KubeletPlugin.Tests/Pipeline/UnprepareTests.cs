using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SecureDra.Kube.Events;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.KubeletPlugin.Tests.Pipeline;

public class UnprepareTests
{
    private static async Task PrepareAsync(PipelineHarness h, int claim, params string[] devices)
    {
        h.Api.PutClaim(TestClaims.Allocated(claim, devices));
        var result = await h.Pipeline.PrepareAsync([TestClaims.Ref(claim)], CancellationToken.None);
        Assert.Null(result[TestClaims.Uid(claim)].Error);
        foreach (var d in devices)
        {
            h.Backend.WriteCanary(d);
        }
    }

    [Fact]
    public async Task Verified_scrub_stays_verified_and_the_plugin_keeps_no_scrub_series_of_its_own()
    {
        // In the process the real VramScrubber's ScrubMetrics registers first; the plugin once kept same-named series
        // with other labels, which made its Observe throw, so every verified scrub withdrew its device. Now the GPU
        // layer's families are the only scrub series: the plugin passes the trigger down and registers none.
        await using var h = PipelineHarness.Create(2);
        _ = new ScrubMetrics(h.Metrics);
        await h.StartAsync();
        await PrepareAsync(h, 1, "gpu-0");

        var result = await h.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None);

        Assert.Null(result[TestClaims.Uid(1)].Error);
        Assert.False(h.Inventory.Get("gpu-0")!.IsWithdrawn);
        Assert.Equal(DeviceAssignment.Free, h.Inventory.Get("gpu-0")!.Assignment);
        Assert.Equal([ScrubTrigger.Release], h.Scrubber.Triggers);
        var families = h.Metrics.Render().Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal) && l.Contains("scrub", StringComparison.Ordinal)).ToList();
        Assert.All(families, f => Assert.Contains(f.Split(' ')[2], new[] { "securedra_scrubs_total", "securedra_scrub_bytes_total", "securedra_scrub_duration_seconds", "securedra_scrub_uncovered_bytes_total", "securedra_scrub_size_bytes", "securedra_scrub_coverage_ratio" }));
        Assert.DoesNotContain("release_scrub", h.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verified_scrub_frees_the_device_keeps_it_published_and_leaves_evidence()
    {
        await using var h = PipelineHarness.Create(2);
        await h.StartAsync(loops: true);
        await PrepareAsync(h, 1, "gpu-0");
        await Poll.UntilAsync(() => h.Api.Slices.Count == 1, "published");
        var writes = h.Api.Writes;

        var result = await h.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None);

        Assert.Null(result[TestClaims.Uid(1)].Error);
        Assert.All(await File.ReadAllBytesAsync(h.Backend.VramPath("gpu-0")), b => Assert.Equal(0, b));
        Assert.Equal(DeviceAssignment.Free, h.Inventory.Get("gpu-0")!.Assignment);
        Assert.False(h.Inventory.Get("gpu-0")!.IsWithdrawn);
        Assert.Empty(h.CdiFiles());
        Assert.Null(h.Journal.Get(TestClaims.Uid(1)));
        Assert.Equal(writes, h.Api.Writes); // a clean release changes nothing in the slice

        var e = Assert.Single(h.Events.Events);
        Assert.Equal(("Node", TestClaims.Node, EventSeverity.Normal, "VramScrubbed"), (e.Target.Kind, e.Target.Name, e.Severity, e.Reason));
        Assert.Contains("gpu-0", e.Message, StringComparison.Ordinal);
        Assert.Contains(TestClaims.Uid(1), e.Message, StringComparison.Ordinal);
        Assert.Contains("4096 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("verified yes", e.Message, StringComparison.Ordinal);
        Assert.Equal([ScrubTrigger.Release], h.Scrubber.Triggers); // the label of the GPU layer's one sample for this scrub
        Assert.Equal(1, h.Metrics.Counter("securedra_unprepare_total", "", "outcome").Value("released"));

        // Idempotent: a second call for the same claim is an unknown claim, which succeeds.
        var again = await h.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None);
        Assert.Null(again[TestClaims.Uid(1)].Error);
        Assert.Equal(1, h.Scrubber.Calls);
    }

    [Theory]
    [InlineData(ScrubBehavior.NotVerified, "scrub not verified: injected")]
    [InlineData(ScrubBehavior.Refuse, "refusing to scrub gpu-1")]
    [InlineData(ScrubBehavior.Throw, "scrub failed: GpuBackendException: injected")]
    public async Task Failed_scrub_withdraws_the_device_before_unprepare_succeeds(ScrubBehavior behavior, string reason)
    {
        await using var h = PipelineHarness.Create(2, new ClaimPipelineOptions { ScrubRetryInitial = TimeSpan.FromMinutes(10), ScrubRetryMax = TimeSpan.FromMinutes(10) });
        await h.StartAsync(loops: true);
        await PrepareAsync(h, 1, "gpu-1");
        await Poll.UntilAsync(() => h.Api.Slices.Count == 1, "published");
        h.Scrubber.Plan("gpu-1", behavior, behavior);

        var result = await h.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None);

        Assert.Null(result[TestClaims.Uid(1)].Error);
        // By the time success is returned, the API server no longer offers the device.
        Assert.Equal(["gpu-0"], Assert.Single(h.Api.Slices).Devices.Select(d => d.Name));
        Assert.True(h.Inventory.Get("gpu-1")!.Withdrawals.ContainsKey(WithdrawalReason.ScrubFailed));
        Assert.Equal(ClaimCheckpointState.ScrubFailed, h.Journal.Get(TestClaims.Uid(1))!.State);
        Assert.Equal(["gpu-1"], h.Journal.Get(TestClaims.Uid(1))!.DirtyDevices);
        Assert.Empty(h.CdiFiles());
        // The GPU layer counts the scrub (its verdict is the outcome label); the plugin keeps why, and says it.
        Assert.Contains(reason, h.Inventory.Get("gpu-1")!.Withdrawals[WithdrawalReason.ScrubFailed], StringComparison.Ordinal);
        Assert.Contains(h.Events.Events, e => e.Reason == "VramScrubFailed" && e.Severity == EventSeverity.Warning && e.Message.Contains(reason, StringComparison.Ordinal));

        h.Api.PutClaim(TestClaims.Allocated(2, "gpu-1"));
        var prepare = await h.Pipeline.PrepareAsync([TestClaims.Ref(2)], CancellationToken.None);
        Assert.Contains("withdrawn", prepare[TestClaims.Uid(2)].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hanging_scrub_times_out_within_the_budget_and_withdraws()
    {
        // The scrub's share of the budget (three quarters, a real-time CancelAfter) is what must cut the hang. The
        // call's whole budget runs on a clock the test holds still: the withdrawal that follows the timeout may take
        // as long as a loaded machine needs to publish, so the verdict no longer depends on the machine's speed.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var h = PipelineHarness.Create(1, new ClaimPipelineOptions { UnprepareBudget = TimeSpan.FromMilliseconds(800), ScrubRetryInitial = TimeSpan.FromMinutes(10), ScrubRetryMax = TimeSpan.FromMinutes(10) }, time: clock);
        await h.StartAsync(loops: true);
        await PrepareAsync(h, 1, "gpu-0");
        await Poll.UntilAsync(() => h.Api.Slices.Count == 1, "published");
        h.Scrubber.Plan("gpu-0", ScrubBehavior.Hang, ScrubBehavior.Hang);

        var result = await h.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None);

        Assert.Null(result[TestClaims.Uid(1)].Error);
        Assert.Empty(Assert.Single(h.Api.Slices).Devices);
        Assert.Contains("timed out", h.Inventory.Get("gpu-0")!.Withdrawals[WithdrawalReason.ScrubFailed], StringComparison.Ordinal);
        Assert.Equal([ScrubTrigger.Release], h.Scrubber.Triggers);
    }

    [Fact]
    public async Task Api_server_down_turns_a_failed_scrub_into_a_claim_error_and_a_retry_succeeds()
    {
        await using var h = PipelineHarness.Create(2, new ClaimPipelineOptions { UnprepareBudget = TimeSpan.FromMilliseconds(600), ScrubRetryInitial = TimeSpan.FromMinutes(10), ScrubRetryMax = TimeSpan.FromMinutes(10) });
        await h.StartAsync(loops: true);
        await PrepareAsync(h, 1, "gpu-0");
        await PrepareAsync(h, 2, "gpu-1");
        await Poll.UntilAsync(() => h.Api.Slices.Count == 1, "published");
        h.Scrubber.Plan("gpu-0", ScrubBehavior.NotVerified, ScrubBehavior.NotVerified);
        h.Api.Down = true;

        var result = await h.Pipeline.UnprepareAsync([TestClaims.Ref(1), TestClaims.Ref(2)], CancellationToken.None);

        Assert.Contains("could not be published", result[TestClaims.Uid(1)].Error, StringComparison.Ordinal);
        Assert.Null(result[TestClaims.Uid(2)].Error); // the clean claim in the same batch is unaffected
        Assert.True(h.Inventory.Get("gpu-0")!.IsWithdrawn);
        Assert.Equal(ClaimCheckpointState.ScrubFailed, h.Journal.Get(TestClaims.Uid(1))!.State);

        h.Api.Down = false;
        var retry = await h.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None);
        Assert.Null(retry[TestClaims.Uid(1)].Error);
        Assert.Equal(["gpu-1"], Assert.Single(h.Api.Slices).Devices.Select(d => d.Name));
    }

    [Fact]
    public async Task Retry_loop_returns_the_device_once_a_scrub_verifies()
    {
        await using var h = PipelineHarness.Create(2);
        await h.StartAsync(loops: true);
        await PrepareAsync(h, 1, "gpu-1");
        await Poll.UntilAsync(() => h.Api.Slices.Count == 1, "published");
        h.Scrubber.Plan("gpu-1", ScrubBehavior.NotVerified, ScrubBehavior.Throw, ScrubBehavior.NotVerified); // then Verify

        Assert.Null((await h.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)].Error);

        await Poll.UntilAsync(() => h.Api.Slices.Count == 1 && h.Api.Slices[0].Devices.Count == 2, "device returned to the slice");
        Assert.False(h.Inventory.Get("gpu-1")!.IsWithdrawn);
        Assert.Null(h.Journal.Get(TestClaims.Uid(1)));
        Assert.Equal(4, h.Scrubber.Calls);
    }

    [Fact]
    public async Task Health_withdrawal_is_awaited_until_published_and_returns()
    {
        await using var h = PipelineHarness.Create(2);
        await h.StartAsync(loops: true);
        // What the health monitor does: the inventory withdraws (it owns device state), the publication says when the slices show it.
        var inventory = h.Provider.GetRequiredService<DeviceInventory>();
        var publication = h.Provider.GetRequiredService<ISlicePublication>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));

        await publication.WaitForPublishedAsync(inventory.Withdraw("gpu-0", WithdrawalReason.Unhealthy, "Xid 79: GPU has fallen off the bus"), cts.Token);
        Assert.Equal(["gpu-1"], Assert.Single(h.Api.Slices).Devices.Select(d => d.Name));
        Assert.Equal("Xid 79: GPU has fallen off the bus", inventory.Get("gpu-0")!.Withdrawals[WithdrawalReason.Unhealthy]);

        await publication.WaitForPublishedAsync(inventory.Return("gpu-0", WithdrawalReason.Unhealthy), cts.Token);
        Assert.Equal(2, Assert.Single(h.Api.Slices).Devices.Count);
        Assert.Empty(inventory.Get("gpu-0")!.Withdrawals);
    }

    [Fact]
    public async Task Prepared_claims_deleted_or_replaced_in_the_api_are_reported_and_stay_prepared()
    {
        // Issue 10 item 1: "gone from the API server" is not evidence that no container holds the GPU
        // (a tenant can strip the finalizer and delete its own claim); only the kubelet's Unprepare releases it.
        await using var h = PipelineHarness.Create(3);
        await h.StartAsync();
        await PrepareAsync(h, 1, "gpu-0");
        await PrepareAsync(h, 2, "gpu-1");
        await PrepareAsync(h, 3, "gpu-2");
        h.Api.RemoveClaim("tenant", "claim-1");
        h.Api.PutClaim(TestClaims.Allocated(2, "gpu-1") with { Uid = "ffffffff-0000-4000-8000-000000000002" });
        var reaper = h.Provider.GetRequiredService<StaleClaimReaper>();

        var reported = await reaper.ReapOnceAsync(CancellationToken.None);
        var again = await reaper.ReapOnceAsync(CancellationToken.None);

        Assert.Equal([TestClaims.Uid(1), TestClaims.Uid(2)], reported.Order(StringComparer.Ordinal));
        Assert.Equal(reported.Order(StringComparer.Ordinal), again.Order(StringComparer.Ordinal));
        Assert.Equal(0, h.Scrubber.Calls);
        Assert.All(["gpu-0", "gpu-1", "gpu-2"], d => Assert.Equal(DeviceState.Prepared, h.Inventory.Get(d)!.State));
        Assert.Equal(ClaimCheckpointState.Prepared, h.Journal.Get(TestClaims.Uid(1))!.State);
        Assert.Equal(3, h.CdiFiles().Count);

        // Reported once each: a Warning Node Event, a log event and a metric by kind.
        var events = h.Events.Events.Where(e => e.Reason == "PreparedClaimGone").ToList();
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal(EventSeverity.Warning, e.Severity));
        Assert.Contains(events, e => e.Message.Contains("claim tenant/claim-1", StringComparison.Ordinal) && e.Message.Contains("gpu-0", StringComparison.Ordinal));
        var metrics = h.Metrics.Render();
        Assert.Contains("securedra_stale_claims_total{kind=\"deleted\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("securedra_stale_claims_total{kind=\"replaced\"} 1", metrics, StringComparison.Ordinal);

        // The kubelet's own Unprepare still releases it, with a scrub.
        var released = await h.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None);
        Assert.Null(released[TestClaims.Uid(1)].Error);
        Assert.Equal(1, h.Scrubber.Calls);
        Assert.True(h.Inventory.Get("gpu-0")!.IsOffered);
    }

    [Fact]
    public async Task Unknown_claim_succeeds_without_scrubbing()
    {
        await using var h = PipelineHarness.Create(1);
        await h.StartAsync();
        var result = await h.Pipeline.UnprepareAsync([TestClaims.Ref(42)], CancellationToken.None);
        Assert.Null(result[TestClaims.Uid(42)].Error);
        Assert.Equal(0, h.Scrubber.Calls);
    }

    [Fact]
    public async Task A_batchs_devices_scrub_in_parallel()
    {
        await using var h = PipelineHarness.Create(4);
        await h.StartAsync();
        await PrepareAsync(h, 1, "gpu-0", "gpu-1", "gpu-2", "gpu-3");
        h.Scrubber.Delay = TimeSpan.FromMilliseconds(100);

        var result = await h.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None);

        Assert.Null(result[TestClaims.Uid(1)].Error);
        Assert.Equal(4, h.Scrubber.MaxConcurrent);
    }

    [Theory]
    [InlineData(CrashPoints.UnprepareAfterCheckpointStarted)]
    [InlineData(CrashPoints.UnprepareAfterScrub)]
    [InlineData(CrashPoints.UnprepareAfterCdiDelete)]
    public async Task Failure_mid_unprepare_keeps_the_claim_and_a_retry_finishes_it(string point)
    {
        await using var h = PipelineHarness.Create(1);
        await h.StartAsync();
        await PrepareAsync(h, 1, "gpu-0");
        h.Crash.FailAt = point;

        var first = await h.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None);
        Assert.NotNull(first[TestClaims.Uid(1)].Error);
        Assert.NotNull(h.Journal.Get(TestClaims.Uid(1)));

        h.Crash.FailAt = null;
        var second = await h.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None);
        Assert.Null(second[TestClaims.Uid(1)].Error);
        Assert.Null(h.Journal.Get(TestClaims.Uid(1)));
        Assert.Empty(h.CdiFiles());
        Assert.Equal(DeviceAssignment.Free, h.Inventory.Get("gpu-0")!.Assignment);
        Assert.False(h.Inventory.Get("gpu-0")!.IsWithdrawn);
    }
}
