using SecureDra.Api.Validation;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.State;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

namespace SecureDra.KubeletPlugin.Tests.Pipeline;

public class PrepareTests
{
    private static async Task<ClaimPrepareResult> PrepareOne(PipelineHarness h, ClaimRef claim) =>
        (await h.Pipeline.PrepareAsync([claim], CancellationToken.None))[claim.Uid];

    [Fact]
    public async Task Prepares_a_claim_with_cdi_id_first_and_base_request_names()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        h.Api.PutClaim(TestClaims.Allocated(1, [new AllocationResult("gpus/h100", TestClaims.Driver, TestClaims.Node, "gpu-1", false, null)], []));

        var result = await PrepareOne(h, TestClaims.Ref(1));

        Assert.Null(result.Error);
        var device = Assert.Single(result.Devices);
        Assert.Equal(["gpus"], device.RequestNames);
        Assert.Equal(TestClaims.Node, device.PoolName);
        Assert.Equal("gpu-1", device.DeviceName);
        Assert.Equal($"k8s.{TestClaims.Driver}/claim={TestClaims.Uid(1)}-gpu-1", device.CdiDeviceIds[0]);
        Assert.Equal(DeviceAssignment.Prepared, h.Inventory.Get("gpu-1")!.Assignment);
        Assert.Equal(ClaimCheckpointState.Prepared, h.Journal.Get(TestClaims.Uid(1))!.State);
        Assert.True(h.Cdi.Exists(TestClaims.Uid(1)));
    }

    [Fact]
    public async Task Replaced_claim_is_an_error_naming_both_uids()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        h.Api.PutClaim(TestClaims.Allocated(1, "gpu-0") with { Uid = "ffffffff-0000-4000-8000-000000000000" });

        var result = await PrepareOne(h, TestClaims.Ref(1));

        Assert.Equal($"claim tenant/claim-1 was replaced (deleted and re-created): uid ffffffff-0000-4000-8000-000000000000 on the API server is not the requested {TestClaims.Uid(1)}", result.Error);
        Assert.Empty(h.CdiFiles());
    }

    [Fact]
    public async Task Unallocated_and_missing_claims_are_errors()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        h.Api.PutClaim(TestClaims.Allocated(1, "gpu-0") with { Allocation = null });

        var results = await h.Pipeline.PrepareAsync([TestClaims.Ref(1), TestClaims.Ref(2)], CancellationToken.None);

        Assert.Equal("claim tenant/claim-1 is not allocated", results[TestClaims.Uid(1)].Error);
        Assert.Equal("claim tenant/claim-2 not found on the API server", results[TestClaims.Uid(2)].Error);
    }

    [Fact]
    public async Task Results_of_other_drivers_and_other_pools_are_ignored()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        h.Api.PutClaim(TestClaims.Allocated(1,
        [
            new AllocationResult("a", "other.example.com", TestClaims.Node, "gpu-0", false, null),
            new AllocationResult("b", TestClaims.Driver, "node-b", "gpu-0", false, null),
            new AllocationResult("c", TestClaims.Driver, TestClaims.Node, "gpu-3", false, null),
        ], [new ClaimConfig([], "other.example.com", "not json at all", "FromClaim")]));

        var result = await PrepareOne(h, TestClaims.Ref(1));

        Assert.Null(result.Error);
        Assert.Equal(["gpu-3"], result.Devices.Select(d => d.DeviceName));
        Assert.Equal(DeviceAssignment.Free, h.Inventory.Get("gpu-0")!.Assignment);
        Assert.Empty(h.Validator.Calls); // other driver's config never decoded
    }

    [Fact]
    public async Task Configs_class_first_then_claim_later_wins_and_parent_request_covers_subrequests()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        h.Api.PutClaim(TestClaims.Allocated(1,
        [
            new AllocationResult("gpus/big", TestClaims.Driver, TestClaims.Node, "gpu-0", false, null),
            new AllocationResult("other", TestClaims.Driver, TestClaims.Node, "gpu-1", false, null),
        ],
        [
            TestClaims.Opaque("FromClaim", """{"resetPolicy":"ZeroVRAMOnRelease"}""", "gpus"),
            TestClaims.Opaque("FromClass", """{"resetPolicy":"ClassPolicy"}"""),
            TestClaims.Opaque("FromClaim", """{"resetPolicy":"ZeroVRAMOnRelease"}""", "gpus/big"),
        ]));

        var result = await PrepareOne(h, TestClaims.Ref(1));

        Assert.Null(result.Error);
        var calls = h.Validator.Calls.ToList();
        Assert.Equal(
        [
            ("status.allocation.devices.config[1].opaque.parameters", ConfigOrigin.DeviceClass),
            ("status.allocation.devices.config[0].opaque.parameters", ConfigOrigin.Claim),
            ("status.allocation.devices.config[2].opaque.parameters", ConfigOrigin.Claim),
        ], calls);
        var entry = h.Journal.Get(TestClaims.Uid(1))!;
        Assert.Equal("ZeroVRAMOnRelease", entry.Devices.Single(d => d.Name == "gpu-0").ResetPolicy); // claim's req/sub config wins
        Assert.Equal("ClassPolicy", entry.Devices.Single(d => d.Name == "gpu-1").ResetPolicy);       // only the class config applies
    }

    [Fact]
    public void Resolver_applies_last_matching_config_per_result()
    {
        var resolver = new OpaqueConfigResolver(new FakeConfigValidator(), TestClaims.Driver);
        var resolved = resolver.Resolve(
            [
                TestClaims.Opaque("FromClaim", """{"resetPolicy":"ZeroVRAMOnRelease"}""", "gpus"),
                TestClaims.Opaque("FromClass", """{"resetPolicy":"ClassPolicy"}"""),
            ],
            [new AllocationResult("gpus/sub", TestClaims.Driver, TestClaims.Node, "gpu-0", false, null), new AllocationResult("x", TestClaims.Driver, TestClaims.Node, "gpu-1", false, null)]);

        Assert.Empty(resolved.Errors);
        Assert.Equal("ZeroVRAMOnRelease", resolved.PerResult[0]!.ResetPolicy); // the claim's config for the parent request covers its subrequest
        Assert.Equal("ClassPolicy", resolved.PerResult[1]!.ResetPolicy);       // only the class config applies
    }

    [Fact]
    public async Task Invalid_config_fails_only_its_claim_with_path_and_metric()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        h.Api.PutClaim(TestClaims.Allocated(1, [new AllocationResult("gpu", TestClaims.Driver, TestClaims.Node, "gpu-0", false, null)],
            [TestClaims.Opaque("FromClaim", """{"resetPolicy":"None"}""")]));
        h.Api.PutClaim(TestClaims.Allocated(2, [new AllocationResult("gpu", TestClaims.Driver, TestClaims.Node, "gpu-1", false, null)],
            [TestClaims.Opaque("FromClaim", """{"surprise":1}""")]));
        h.Api.PutClaim(TestClaims.Allocated(3, "gpu-2"));

        var results = await h.Pipeline.PrepareAsync([TestClaims.Ref(1), TestClaims.Ref(2), TestClaims.Ref(3)], CancellationToken.None);

        Assert.Contains("status.allocation.devices.config[0].opaque.parameters.resetPolicy: a claim may only set ZeroVRAMOnRelease", results[TestClaims.Uid(1)].Error, StringComparison.Ordinal);
        Assert.Contains("status.allocation.devices.config[0].opaque.parameters.surprise: unknown field", results[TestClaims.Uid(2)].Error, StringComparison.Ordinal);
        Assert.Null(results[TestClaims.Uid(3)].Error);
        Assert.Equal(DeviceAssignment.Free, h.Inventory.Get("gpu-0")!.Assignment);
        var rejections = h.Metrics.Counter("securedra_config_rejections_total", "", "reason");
        Assert.Equal(1, rejections.Value("resetPolicy"));
        Assert.Equal(1, rejections.Value("other"));
        Assert.Equal([$"k8s.{TestClaims.Driver}-claim_{TestClaims.Uid(3)}.json"], h.CdiFiles());
    }

    [Fact]
    public async Task A_prepare_makes_one_durable_checkpoint_write_holding_Prepared()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        h.Api.PutClaim(TestClaims.Allocated(1, "gpu-0"));
        var writes = h.CheckpointWrites;

        Assert.Null((await PrepareOne(h, TestClaims.Ref(1))).Error);

        Assert.Equal(writes + 1, h.CheckpointWrites);
        var onDisk = await h.Journal.File.ReadAsync(CancellationToken.None);
        Assert.Equal(ClaimCheckpointState.Prepared, onDisk!.Claims[TestClaims.Uid(1)].State);
        Assert.Single(h.CdiFiles());
    }

    [Fact]
    public async Task A_crash_after_the_cdi_spec_but_before_Prepared_is_durable_leaves_the_device_free_after_restart()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        h.Api.PutClaim(TestClaims.Allocated(1, "gpu-0"));
        // What the disk holds after a SIGKILL at prepare:after-cdi: the spec, no checkpoint entry (PrepareStarted is not written).
        await h.Cdi.WriteAsync(TestClaims.Uid(1), [h.Inventory.Find("gpu-0")!], CancellationToken.None);

        await h.RestartAsync();

        Assert.Empty(h.CdiFiles());
        Assert.Null(h.Journal.Get(TestClaims.Uid(1)));
        Assert.Equal(DeviceAssignment.Free, h.Inventory.Get("gpu-0")!.Assignment);
        Assert.Null((await PrepareOne(h, TestClaims.Ref(1))).Error);
    }

    [Fact]
    public async Task Second_prepare_returns_the_same_answer_without_redoing_work()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        h.Api.PutClaim(TestClaims.Allocated(1, "gpu-0", "gpu-1"));

        var first = await PrepareOne(h, TestClaims.Ref(1));
        var gets = h.Api.ClaimGets;
        var writes = h.CheckpointWrites;
        var second = await PrepareOne(h, TestClaims.Ref(1));

        Assert.Null(second.Error);
        Assert.Equal(first.Devices.Select(d => (d.DeviceName, d.CdiDeviceIds[0], string.Join(",", d.RequestNames))),
            second.Devices.Select(d => (d.DeviceName, d.CdiDeviceIds[0], string.Join(",", d.RequestNames))));
        Assert.Equal(gets, h.Api.ClaimGets);
        Assert.Equal(writes, h.CheckpointWrites);
        Assert.Equal(1, h.Metrics.Counter("securedra_prepare_total", "", "outcome").Value("idempotent"));
    }

    [Fact]
    public async Task Prepare_survives_a_restart_idempotently()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        h.Api.PutClaim(TestClaims.Allocated(1, "gpu-2"));
        var first = await PrepareOne(h, TestClaims.Ref(1));

        await h.RestartAsync();
        var again = await PrepareOne(h, TestClaims.Ref(1));

        Assert.Equal(first.Devices[0].CdiDeviceIds, again.Devices[0].CdiDeviceIds);
        Assert.Equal(DeviceAssignment.Prepared, h.Inventory.Get("gpu-2")!.Assignment);
        Assert.Equal(TestClaims.Uid(1), h.Inventory.Get("gpu-2")!.ClaimUid);
    }

    [Fact]
    public async Task Device_prepared_for_another_claim_is_that_claims_error()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        h.Api.PutClaim(TestClaims.Allocated(1, "gpu-0"));
        h.Api.PutClaim(TestClaims.Allocated(2, "gpu-0"));

        Assert.Null((await PrepareOne(h, TestClaims.Ref(1))).Error);
        var second = await PrepareOne(h, TestClaims.Ref(2));

        Assert.Contains("device gpu-0 is prepared for another claim", second.Error, StringComparison.Ordinal);
        Assert.Null(h.Journal.Get(TestClaims.Uid(2)));
        Assert.Equal([$"k8s.{TestClaims.Driver}-claim_{TestClaims.Uid(1)}.json"], h.CdiFiles());
    }

    [Fact]
    public async Task Withdrawn_or_unknown_devices_and_admin_access_are_refused()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        h.Inventory.Withdraw("gpu-0", WithdrawalReason.ScrubFailed, "not verified");
        h.Api.PutClaim(TestClaims.Allocated(1, "gpu-0"));
        h.Api.PutClaim(TestClaims.Allocated(2, "gpu-9"));
        h.Api.PutClaim(TestClaims.Allocated(3, [new AllocationResult("gpu", TestClaims.Driver, TestClaims.Node, "gpu-1", true, null)], []));

        var results = await h.Pipeline.PrepareAsync([TestClaims.Ref(1), TestClaims.Ref(2), TestClaims.Ref(3)], CancellationToken.None);

        Assert.Contains("withdrawn from scheduling", results[TestClaims.Uid(1)].Error, StringComparison.Ordinal);
        Assert.Contains("device gpu-9 does not exist", results[TestClaims.Uid(2)].Error, StringComparison.Ordinal);
        Assert.Contains("adminAccess is not supported", results[TestClaims.Uid(3)].Error, StringComparison.Ordinal);
        Assert.Empty(h.CdiFiles());
    }

    [Fact]
    public async Task Invalid_uid_is_rejected_before_any_file_is_touched()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        var bad = new ClaimRef("tenant", "claim-x", "../../etc/passwd");

        var result = await PrepareOne(h, bad);

        Assert.Contains("uid is not", result.Error, StringComparison.Ordinal);
        Assert.Empty(h.CdiFiles());
        Assert.Equal(0, h.Api.ClaimGets);
    }

    [Fact]
    public async Task Empty_request_answers_an_empty_map()
    {
        await using var h = PipelineHarness.Create();
        Assert.Empty(await h.Pipeline.PrepareAsync([], CancellationToken.None));
        Assert.Empty(await h.Pipeline.UnprepareAsync([], CancellationToken.None));
    }

    [Theory]
    [InlineData(SecureDra.KubeletPlugin.Pipeline.CrashPoints.PrepareAfterCheckpointStarted)]
    [InlineData(SecureDra.KubeletPlugin.Pipeline.CrashPoints.PrepareAfterCdi)]
    [InlineData(SecureDra.KubeletPlugin.Pipeline.CrashPoints.PrepareAfterCheckpointPrepared)]
    public async Task Failure_mid_prepare_rolls_back_completely(string point)
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        h.Api.PutClaim(TestClaims.Allocated(1, "gpu-0"));
        h.Crash.FailAt = point;

        var result = await PrepareOne(h, TestClaims.Ref(1));

        Assert.NotNull(result.Error);
        Assert.Empty(h.CdiFiles());
        Assert.Null(h.Journal.Get(TestClaims.Uid(1)));
        Assert.Equal(DeviceAssignment.Free, h.Inventory.Get("gpu-0")!.Assignment);

        h.Crash.FailAt = null;
        Assert.Null((await PrepareOne(h, TestClaims.Ref(1))).Error);
    }
}
