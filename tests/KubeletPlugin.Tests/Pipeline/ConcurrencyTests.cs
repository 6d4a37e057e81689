using System.Collections.Concurrent;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

namespace SecureDra.KubeletPlugin.Tests.Pipeline;

public class ConcurrencyTests
{
    [Fact]
    public async Task Hundred_claims_prepare_and_unprepare_concurrently()
    {
        await using var h = PipelineHarness.Create(100);
        await h.StartAsync(loops: true);
        for (var i = 0; i < 100; i++)
        {
            h.Api.PutClaim(TestClaims.Allocated(i, $"gpu-{i}"));
        }

        var prepared = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => h.Pipeline.PrepareAsync([TestClaims.Ref(i)], CancellationToken.None)));
        Assert.All(prepared.SelectMany(r => r.Values), r => Assert.Null(r.Error));
        Assert.Equal(100, h.CdiFiles().Count);
        Assert.Equal(100, h.Journal.Claims().Count);
        Assert.True(h.CheckpointWrites < 400, $"group commit should batch writes, got {h.CheckpointWrites}");

        var released = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => h.Pipeline.UnprepareAsync([TestClaims.Ref(i)], CancellationToken.None)));
        Assert.All(released.SelectMany(r => r.Values), r => Assert.Null(r.Error));
        Assert.Empty(h.CdiFiles());
        Assert.Empty(h.Journal.Claims());
        Assert.All(h.Inventory.Snapshot().Devices, d => Assert.Equal(DeviceAssignment.Free, d.Assignment));
    }

    [Fact]
    public async Task A_device_is_never_in_two_claims_hands()
    {
        await using var h = PipelineHarness.Create(4);
        await h.StartAsync();
        // 100 claims all allocated one of only 4 devices; only one claim per device may win.
        for (var i = 0; i < 100; i++)
        {
            h.Api.PutClaim(TestClaims.Allocated(i, $"gpu-{i % 4}"));
        }

        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => h.Pipeline.PrepareAsync([TestClaims.Ref(i)], CancellationToken.None)));
        var winners = results.SelectMany(r => r).Where(r => r.Value.Error is null).ToList();

        Assert.Equal(4, winners.Count);
        Assert.Equal(4, winners.Select(w => w.Value.Devices[0].DeviceName).Distinct().Count());
        Assert.Equal(4, h.CdiFiles().Count);
        foreach (var w in winners)
        {
            Assert.Equal(w.Key, h.Inventory.Get(w.Value.Devices[0].DeviceName)!.ClaimUid);
        }
    }

    [Fact]
    public async Task Same_claim_in_parallel_calls_is_prepared_once()
    {
        await using var h = PipelineHarness.Create(1);
        await h.StartAsync();
        h.Api.PutClaim(TestClaims.Allocated(1, "gpu-0"));

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => h.Pipeline.PrepareAsync([TestClaims.Ref(1)], CancellationToken.None)));

        Assert.All(results, r => Assert.Null(r[TestClaims.Uid(1)].Error));
        Assert.Equal(19, h.Metrics.Counter("securedra_prepare_total", "", "outcome").Value("idempotent"));
    }

    [Fact]
    public async Task Inventory_reservations_race_safely()
    {
        await using var h = PipelineHarness.Create(1);
        await h.StartAsync();
        var winners = new ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() =>
        {
            try
            {
                h.Inventory.Reserve(TestClaims.Uid(i), ["gpu-0"]);
                winners.Add(TestClaims.Uid(i));
            }
            catch (DeviceReservationException)
            {
            }
        })));
        Assert.Single(winners);
    }

    [Fact]
    public async Task Duplicate_uids_in_one_request_get_one_entry()
    {
        await using var h = PipelineHarness.Create(1);
        await h.StartAsync();
        h.Api.PutClaim(TestClaims.Allocated(1, "gpu-0"));
        var result = await h.Pipeline.PrepareAsync([TestClaims.Ref(1), TestClaims.Ref(1)], CancellationToken.None);
        Assert.Single(result);
    }
}
