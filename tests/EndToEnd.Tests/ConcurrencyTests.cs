using System.Collections.Concurrent;
using SecureDra.EndToEnd.Tests.Fixture;
using SecureDra.LocalCluster.Kubelet;

namespace SecureDra.EndToEnd.Tests;

/// <summary>Many claims at once through the real socket: all succeed, and a device is never in two claims' hands.</summary>
public class ConcurrencyTests
{
    private const int Gpus = 50;

    [Fact]
    public async Task Hundred_claims_prepared_and_unprepared_concurrently()
    {
        await using var node = await E2eNode.StartAsync(new NodeOptions { Gpus = Gpus, Memory = "4Mi" });
        await node.CreateDeviceClassAsync("gpu");

        // 100 claims, two per GPU (claim i and i+50 get gpu-i, as the scheduler reuses a released device).
        var claims = new KubeletClaim[2 * Gpus];
        using (var throttle = new SemaphoreSlim(8))
        {
            await Task.WhenAll(Enumerable.Range(0, claims.Length).Select(async i =>
            {
                await throttle.WaitAsync();
                try
                {
                    claims[i] = await node.ClaimDeviceAsync($"c-{i}", $"gpu-{i % Gpus}");
                }
                finally
                {
                    throttle.Release();
                }
            }));
        }

        await node.WaitForPublishedAsync(node.AllDevices, "all GPUs published");
        var holders = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var failures = new ConcurrentBag<string>();

        // 50 independent tenants at once, each preparing, using and releasing two claims in turn.
        await Task.WhenAll(Enumerable.Range(0, Gpus).Select(gpu => Task.Run(async () =>
        {
            foreach (var claim in new[] { claims[gpu], claims[gpu + Gpus] })
            {
                var prepared = await node.PrepareOneAsync(claim);
                if (prepared.Error.Length > 0)
                {
                    failures.Add($"prepare {claim.Name}: {prepared.Error}");
                    continue;
                }

                var device = Assert.Single(prepared.Devices).DeviceName;
                if (!holders.TryAdd(device, claim.Uid))
                {
                    failures.Add($"{device} handed to {claim.Name} while held by {holders[device]}");
                }

                node.WriteCanary(device);
                holders.TryRemove(device, out _);
                var error = await node.UnprepareOneAsync(claim);
                if (error.Length > 0)
                {
                    failures.Add($"unprepare {claim.Name}: {error}");
                }
                else if (!node.ReadCanarySpots(device).All(b => b == 0))
                {
                    failures.Add($"{device}: canary of {claim.Name} survived its release");
                }
            }
        })));

        Assert.True(failures.IsEmpty, string.Join("\n", failures) + "\n" + node.Diagnostics());
        Assert.Contains("securedra_prepare_total{outcome=\"prepared\"} 100", await node.MetricsAsync(), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(node.CdiDir));
        await node.WaitForPublishedAsync(node.AllDevices, "every device clean and published");

        // The same 50 claims in one batch each way: one answer per claim, distinct devices.
        var batch = claims[..Gpus];
        var answers = await node.Kubelet.PrepareAsync(batch);
        Assert.Equal(Gpus, answers.Count);
        Assert.All(answers.Values, a => Assert.True(a.Error.Length == 0, a.Error));
        Assert.Equal(Gpus, answers.Values.Select(a => Assert.Single(a.Devices).DeviceName).Distinct().Count());
        var released = await node.Kubelet.UnprepareAsync(batch);
        Assert.Equal(Gpus, released.Count);
        Assert.All(released.Values, e => Assert.True(e.Length == 0, e));
        Assert.Empty(Directory.GetFiles(node.CdiDir));
    }

    [Fact]
    public async Task Two_claims_racing_for_one_device_never_both_get_it()
    {
        await using var node = await E2eNode.StartAsync();
        await node.CreateDeviceClassAsync("gpu");
        for (var round = 0; round < 5; round++)
        {
            // A stale allocation (e.g. a scheduler that has not seen the release yet) names the same GPU twice.
            var a = await node.ClaimDeviceAsync($"a-{round}", "gpu-1");
            var b = await node.ClaimDeviceAsync($"b-{round}", "gpu-1");
            var results = await Task.WhenAll(node.PrepareOneAsync(a), node.PrepareOneAsync(b));
            var winners = results.Count(r => r.Error.Length == 0);
            Assert.True(winners == 1, $"round {round}: {winners} claims hold gpu-1: {string.Join(" | ", results.Select(r => r.Error))}");
            var (winner, loser) = results[0].Error.Length == 0 ? (a, b) : (b, a);
            Assert.Contains("gpu-1", results.Single(r => r.Error.Length > 0).Error, StringComparison.Ordinal);

            await node.UnprepareOkAsync(winner);
            await node.PrepareOkAsync(loser);
            await node.UnprepareOkAsync(loser);
        }
    }
}
