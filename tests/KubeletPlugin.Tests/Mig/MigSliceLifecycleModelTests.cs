using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Nvml.Backends.Mig;

namespace SecureDra.KubeletPlugin.Tests.Mig;

/// <summary>
/// Random sequences of MIG events against the inventory, restarts included, checked against a model
/// that only knows which memory slices a tenant could have written ("tainted": a claim reached
/// Prepared on them, or they were marked dirty) and which a verified scrub cleared since. Invariant
/// after every step: a placement offered covers no tainted slice and no slice a claim holds, and no
/// slice is held by two claims.
/// </summary>
public class MigSliceLifecycleModelTests
{
    private static readonly string[] Claims = ["00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b", "00000000-0000-4000-8000-00000000000c"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Random_mig_sequences_never_offer_memory_a_tenant_may_have_written(int seed)
    {
        var random = new Random(seed);
        for (var sequence = 0; sequence < 12; sequence++)
        {
            await RunSequenceAsync(random, steps: 60);
        }
    }

    private static async Task RunSequenceAsync(Random random, int steps)
    {
        await using var h = PipelineHarness.Create(1, new ClaimPipelineOptions { MigMode = MigMode.Dynamic }, mig: new FakeMigBackend());
        h.Backend.MigMode["gpu-0"] = true;
        await h.StartAsync();
        var names = h.Inventory.Snapshot().Partitions.Single().Placements.Select(p => p.Name).ToArray();
        var tainted = new bool[8];
        var grants = new Dictionary<string, (string Claim, DeviceState State)>(StringComparer.Ordinal); // what the model granted
        var log = new List<string>();

        bool Overlaps(string name) => grants.Keys.Any(g => h.Inventory.FindPlacement(g)!.Value.Placement.Overlaps(h.Inventory.FindPlacement(name)!.Value.Placement));
        void Taint(MigPlacement p, bool value)
        {
            foreach (var s in p.Slices)
            {
                tainted[s] = value;
            }
        }

        for (var step = 0; step < steps; step++)
        {
            var name = names[random.Next(names.Length)];
            var claim = Claims[random.Next(Claims.Length)];
            var placement = h.Inventory.FindPlacement(name)!.Value.Placement;
            var before = Placement(h, name);
            var grant = grants.TryGetValue(name, out var g) ? g : default;
            var op = random.Next(9);
            log.Add($"{op} {claim[^1]} {name} (was {before.State}, granted {grant.Claim?[^1]} {grant.State})");
            switch (op)
            {
                case 0 or 1:
                    try
                    {
                        h.Inventory.Reserve(claim, [name]);
                        Assert.True(before.IsOffered || grant.Claim == claim, $"reserved a device that was not offered: {string.Join(" | ", log)}");
                        grants.TryAdd(name, (claim, DeviceState.Reserved));
                    }
                    catch (DeviceReservationException)
                    {
                        Assert.False(before.IsOffered, $"an offered device was refused: {string.Join(" | ", log)}");
                    }

                    break;
                case 2:
                    // Any claim, any name: only the holder of exactly this device moves it.
                    h.Inventory.MarkPrepared(claim, [name]);
                    await h.Journal.CommitAsync(CancellationToken.None); // the pipeline commits Prepared before answering the kubelet
                    if (grant.Claim == claim && grant.State == DeviceState.Reserved)
                    {
                        grants[name] = (claim, DeviceState.Prepared);
                        Taint(placement, true);
                    }

                    break;
                case 3:
                    if (grant.Claim is null || grant.State == DeviceState.Reserved)
                    {
                        h.Inventory.Release(claim, [name]); // rollback before the kubelet saw it
                        if (grant.Claim == claim)
                        {
                            grants.Remove(name);
                        }
                    }

                    break;
                case 4:
                    h.Inventory.BeginRelease(claim, [name]);
                    await h.Journal.CommitAsync(CancellationToken.None);
                    if (grant.Claim == claim && grant.State == DeviceState.Prepared)
                    {
                        grants[name] = (claim, DeviceState.Releasing);
                    }

                    break;
                case 5 or 6:
                    var asClaim = random.Next(2) == 0 ? claim : null;
                    if (h.Inventory.TryBeginScrub(name, asClaim))
                    {
                        if (asClaim is null)
                        {
                            Assert.False(Overlaps(name), $"a free scrub started under a granted device: {string.Join(" | ", log)}");
                        }
                        else
                        {
                            Assert.True(grant.Claim == asClaim && grant.State is DeviceState.Prepared or DeviceState.Releasing, $"a claim scrub started on a device the claim does not hold: {string.Join(" | ", log)}");
                        }

                        var verified = random.Next(3) > 0;
                        await h.Inventory.CompleteScrubAsync(name, verified, "model", CancellationToken.None);
                        grants.Remove(name);
                        Taint(placement, !verified); // verified: cleared; failed: dirty, treated as written
                    }

                    break;
                case 7:
                    if (!Overlaps(name) && before.State is not DeviceState.Scrubbing)
                    {
                        h.Inventory.Withdraw(name, WithdrawalReason.VramDirty, "model");
                        await h.Journal.CommitAsync(CancellationToken.None);
                        Taint(placement, true);
                    }

                    break;
                default:
                    await h.RestartAsync();
                    grants.Clear(); // reserved: never exposed, clean again; prepared or releasing: no kept claim, dirty
                    break;
            }

            Check(h, tainted, grants, log);
        }
    }

    private static PlacementStateSnapshot Placement(PipelineHarness h, string name) =>
        h.Inventory.Snapshot().Partitions.Single().Placements.Single(p => p.Name == name);

    private static void Check(PipelineHarness h, bool[] tainted, Dictionary<string, (string Claim, DeviceState State)> held, List<string> log)
    {
        var partition = h.Inventory.Snapshot().Partitions.Single();
        foreach (var p in partition.Placements.Where(p => p.IsOffered))
        {
            Assert.False(p.Placement.Slices.Any(s => tainted[s]), $"{p.Name} is offered over a slice a tenant may have written: {string.Join(" | ", log)}");
            Assert.All(p.Placement.Slices, s => Assert.Equal(MemorySliceState.Clean, partition.Slices[s].State));
        }

        var grants = held.Select(g => (Name: g.Key, g.Value.Claim, partition.Placements.Single(p => p.Name == g.Key).Placement)).ToList();
        foreach (var a in grants)
        {
            Assert.All(a.Placement.Slices, s => Assert.Equal(a.Claim, partition.Slices[s].ClaimUid));
            foreach (var b in grants.Where(b => b.Name != a.Name))
            {
                Assert.False(a.Placement.Overlaps(b.Placement), $"{a.Name} ({a.Claim}) and {b.Name} ({b.Claim}) were both granted and share memory: {string.Join(" | ", log)}");
            }
        }
    }
}
