using System.Text.Json.Nodes;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

namespace SecureDra.KubeletPlugin.Tests.Mig;

/// <summary>
/// Per memory slice cleanliness (issue 13 item 2), attacked: a placement is offered only when its
/// GPU is proven clean and every slice it covers is Clean; overlapping placements never go to two
/// claims; a dirty slice withdraws every device that uses it, the whole GPU included, and nothing
/// else; the state survives a restart and an older plugin reads it as dirty.
/// </summary>
public sealed class MigSliceStateTests : IAsyncLifetime
{
    // A100-40GB placements on gpu-0 (minor 0).
    private const string G3At0 = "gpu-0-mig-3g20gb-9-0";
    private const string G3At4 = "gpu-0-mig-3g20gb-9-4";
    private const string G2At2 = "gpu-0-mig-2g10gb-14-2";
    private const string G1At3 = "gpu-0-mig-1g5gb-19-3";
    private const string G1At0 = "gpu-0-mig-1g5gb-19-0";
    private const string G1At4 = "gpu-0-mig-1g5gb-19-4";
    private const string G7 = "gpu-0-mig-7g40gb-0-0";

    private PipelineHarness _h = null!;

    public async Task InitializeAsync()
    {
        _h = PipelineHarness.Create(2, new ClaimPipelineOptions { MigMode = MigMode.Dynamic, WithdrawalMode = WithdrawalMode.TaintNoSchedule }, mig: new FakeMigBackend());
        _h.Backend.MigMode["gpu-0"] = true;
        await _h.StartAsync();
    }

    public async Task DisposeAsync() => await _h.DisposeAsync();

    private PlacementStateSnapshot Placement(string name) => _h.Inventory.Snapshot().Partitions.Single().Placements.Single(p => p.Name == name);

    [Fact]
    public void A_gpu_in_mig_mode_is_offered_as_its_placements_and_the_whole_gpu_stays_out()
    {
        var snapshot = _h.Inventory.Snapshot();
        var partition = Assert.Single(snapshot.Partitions);
        Assert.Equal("gpu-0", partition.Gpu.Name);
        Assert.Equal(25, partition.Placements.Count);
        Assert.All(partition.Placements, p => Assert.True(p.IsOffered, p.Name));
        Assert.All(partition.Slices, s => Assert.Equal(MemorySliceState.Clean, s.State));

        var whole = snapshot.Devices.Single(d => d.Name == "gpu-0");
        Assert.Equal([WithdrawalReason.MigModeEnabled], whole.Withdrawals.Keys);
        Assert.True(snapshot.Devices.Single(d => d.Name == "gpu-1").IsOffered);
    }

    [Fact]
    public void Overlapping_placements_never_go_to_two_claims()
    {
        _h.Inventory.Reserve("claim-a", [G3At0]);

        var overlap = Assert.Throws<DeviceReservationException>(() => _h.Inventory.Reserve("claim-b", [G2At2]));
        Assert.Contains("claim-a", overlap.Message, StringComparison.Ordinal);
        Assert.Throws<DeviceReservationException>(() => _h.Inventory.Reserve("claim-b", [G7]));
        Assert.Throws<DeviceReservationException>(() => _h.Inventory.Reserve("claim-b", ["gpu-0"]));

        _h.Inventory.Reserve("claim-b", [G3At4]); // disjoint slices: fine
        _h.Inventory.Reserve("claim-a", [G3At0]); // idempotent
        Assert.Equal("claim-b", Placement(G3At4).ClaimUid);
    }

    [Fact]
    public void One_claim_cannot_take_two_devices_that_share_memory()
    {
        var ex = Assert.Throws<DeviceReservationException>(() => _h.Inventory.Reserve("claim-a", [G3At0, G1At3]));
        Assert.Contains("share memory", ex.Message, StringComparison.Ordinal);
        Assert.Throws<DeviceReservationException>(() => _h.Inventory.Reserve("claim-a", [G1At0, "gpu-0"]));
        Assert.True(Placement(G3At0).IsOffered, "a refused request holds nothing");
        Assert.True(Placement(G1At3).IsOffered);
    }

    [Fact]
    public async Task A_failed_scrub_withdraws_every_overlapping_device_and_the_parent_and_nothing_else()
    {
        _h.Inventory.Reserve("claim-a", [G1At3]);
        _h.Inventory.MarkPrepared("claim-a", [G1At3]);
        _h.Inventory.BeginRelease("claim-a", [G1At3]);
        Assert.True(_h.Inventory.TryBeginScrub(G1At3, "claim-a"));
        await _h.Inventory.CompleteScrubAsync(G1At3, verified: false, "verify failed at offset 0x40", CancellationToken.None);

        var partition = _h.Inventory.Snapshot().Partitions.Single();
        Assert.Equal(MemorySliceState.Dirty, partition.Slices[3].State);
        Assert.All(partition.Slices.Where(s => s.Index != 3), s => Assert.Equal(MemorySliceState.Clean, s.State));
        foreach (var p in partition.Placements)
        {
            var usesSlice3 = p.Placement.Contains(3);
            Assert.Equal(usesSlice3, p.Withdrawals.ContainsKey(WithdrawalReason.ScrubFailed));
            Assert.Equal(!usesSlice3, p.IsOffered);
        }

        Assert.Contains(WithdrawalReason.ScrubFailed, _h.Inventory.Get("gpu-0")!.Withdrawals.Keys);
        Assert.Throws<DeviceReservationException>(() => _h.Inventory.Reserve("claim-b", [G3At0]));
        _h.Inventory.Reserve("claim-b", [G3At4]);

        // Published: the overlapping placements carry the taint, the others none.
        await _h.Publisher.ReconcileOnceAsync(CancellationToken.None);
        var devices = _h.Api.Slices.SelectMany(s => s.Devices).ToDictionary(d => d.Name);
        Assert.Equal(DeviceTaintKeys.ScrubFailed, Assert.Single(devices[G3At0].Taints).Key);
        Assert.Empty(devices[G1At4].Taints);
    }

    [Fact]
    public async Task A_verified_scrub_of_an_instance_cleans_exactly_its_slices()
    {
        _h.Inventory.Reserve("claim-a", [G3At4]);
        _h.Inventory.MarkPrepared("claim-a", [G3At4]);
        _h.Inventory.Withdraw(G1At0, WithdrawalReason.VramDirty, "left by a test");
        _h.Inventory.BeginRelease("claim-a", [G3At4]);
        Assert.True(_h.Inventory.TryBeginScrub(G3At4, "claim-a"));
        Assert.False(_h.Inventory.TryBeginScrub(G3At4, "claim-a"), "two scrubs never race");
        Assert.False(_h.Inventory.TryBeginScrub("gpu-0", null), "no whole-GPU scrub under a scrubbing instance");
        await _h.Inventory.CompleteScrubAsync(G3At4, verified: true, "", CancellationToken.None);

        var slices = _h.Inventory.Snapshot().Partitions.Single().Slices;
        Assert.Equal(MemorySliceState.Dirty, slices[0].State);
        Assert.All(slices.Skip(1), s => Assert.Equal(MemorySliceState.Clean, s.State));
        Assert.True(Placement(G3At4).IsOffered);
        Assert.False(Placement(G3At0).IsOffered);
    }

    [Fact]
    public async Task Prepared_slices_survive_a_restart_only_with_their_claim_and_an_older_plugin_reads_them_as_dirty()
    {
        _h.Inventory.Reserve("claim-a", [G2At2]);
        _h.Inventory.MarkPrepared("claim-a", [G2At2]);
        await _h.Journal.CommitAsync(CancellationToken.None);

        var text = await File.ReadAllTextAsync(_h.CheckpointPath);
        var json = JsonNode.Parse(text[(text.IndexOf('\n', StringComparison.Ordinal) + 1)..])!; // after the checksum header line
        var record = FindDeviceRecord(json, "gpu-0");
        Assert.Equal("Dirty", record["state"]!.GetValue<string>()); // what a plugin without memory slices acts on
        Assert.True(record["slicesHoldState"]!.GetValue<bool>());
        var slices = record["memorySlices"]!.AsArray();
        Assert.Equal(8, slices.Count);
        Assert.Equal(["Clean", "Clean", "Prepared", "Prepared", "Clean", "Clean", "Clean", "Clean"], slices.Select(s => s!["state"]!.GetValue<string>()));

        // claim-a has no claim entry in the checkpoint (only the inventory ran): its tenant may have written the slices.
        await _h.RestartAsync();
        var partition = _h.Inventory.Snapshot().Partitions.Single();
        Assert.Equal(MemorySliceState.Dirty, partition.Slices[2].State);
        Assert.Equal(MemorySliceState.Dirty, partition.Slices[3].State);
        Assert.Equal(MemorySliceState.Clean, partition.Slices[4].State);
        Assert.False(Placement(G2At2).IsOffered);
        Assert.True(Placement(G3At4).IsOffered);
        Assert.Contains(WithdrawalReason.VramDirty, _h.Inventory.Get("gpu-0")!.Withdrawals.Keys);
    }

    [Fact]
    public async Task A_gpu_no_longer_partitioned_comes_back_dirty_when_its_slices_were_not_clean()
    {
        _h.Inventory.Reserve("claim-a", [G1At0]);
        _h.Inventory.MarkPrepared("claim-a", [G1At0]);
        await _h.Journal.CommitAsync(CancellationToken.None);

        _h.Reconfigure(o => o with { MigMode = MigMode.Off });
        _h.Backend.MigMode["gpu-0"] = false;
        await _h.RestartAsync();

        var gpu0 = _h.Inventory.Get("gpu-0")!;
        Assert.Empty(_h.Inventory.Snapshot().Partitions);
        Assert.NotEqual(DeviceState.Clean, gpu0.State); // scrubbed at start-up or still dirty: never offered on the old record
    }

    [Fact]
    public async Task Dynamic_mode_publishes_counter_sets_alone_first_from_1_35()
    {
        await _h.Publisher.ReconcileOnceAsync(CancellationToken.None);
        var slices = _h.Api.Slices.ToList();
        var counters = Assert.Single(slices, s => s.SharedCounters is { Count: > 0 });
        Assert.Empty(counters.Devices);
        Assert.Equal("gpu-0-counter-set", Assert.Single(counters.SharedCounters!).Name);
        var placements = slices.SelectMany(s => s.Devices).Where(d => d.Name.StartsWith("gpu-0-mig-", StringComparison.Ordinal)).ToList();
        Assert.Equal(25, placements.Count);
        Assert.All(placements, p => Assert.Equal("gpu-0-counter-set", Assert.Single(p.ConsumesCounters!).CounterSet));
        Assert.Equal(0, await _h.Publisher.ReconcileOnceAsync(CancellationToken.None)); // steady state: no writes
    }

    [Fact]
    public async Task A_server_that_drops_counters_gets_no_placements_and_the_fallback_is_counted()
    {
        _h.Api.DropCounters = true;
        await _h.Publisher.ReconcileOnceAsync(CancellationToken.None);

        var devices = _h.Api.Slices.SelectMany(s => s.Devices).ToList();
        Assert.DoesNotContain(devices, d => d.Name.Contains("-mig-", StringComparison.Ordinal));
        Assert.All(_h.Api.Slices, s => Assert.Empty(s.SharedCounters ?? []));
        Assert.True(_h.Publisher.CountersRejected);
        Assert.Equal(1, _h.Metrics.Counter("securedra_mig_partitionable_fallbacks_total", "", "reason").Value("counters-unavailable"));
        await Poll.UntilAsync(() => _h.Events.Events.Any(e => e.Reason == "MigDynamicFallback"), "the Node Event, recorded off the publishing path, is seen", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Preparing_a_placement_in_dynamic_mode_whose_instance_cannot_be_created_fails_closed_and_reserves_nothing()
    {
        // FakeMigBackend refuses every create: the claim fails naming the device and the backend's answer.
        _h.Api.PutClaim(TestClaims.Allocated(1, G3At4));

        var result = (await _h.Pipeline.PrepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)];

        Assert.Contains($"device {G3At4}: creating the MIG GPU instance on GPU gpu-0 failed: Specified method is not supported", result.Error, StringComparison.Ordinal);
        Assert.True(Placement(G3At4).IsOffered, "nothing was reserved");
        Assert.Empty(_h.CdiFiles());
        Assert.Null(_h.Journal.Get(TestClaims.Uid(1)));
    }

    private static JsonObject FindDeviceRecord(JsonNode checkpoint, string name)
    {
        // The checkpoint wraps its payload; find the devices map wherever it sits.
        var stack = new Stack<JsonNode>([checkpoint]);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (node is JsonObject o)
            {
                if (o["devices"] is JsonObject devices && devices[name] is JsonObject record)
                {
                    return record;
                }

                foreach (var (_, child) in o)
                {
                    if (child is not null)
                    {
                        stack.Push(child);
                    }
                }
            }
        }

        throw new InvalidOperationException("no device record for " + name);
    }
}
