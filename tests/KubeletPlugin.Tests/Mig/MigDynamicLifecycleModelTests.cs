using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.KubeletPlugin.Tests.Mig;

/// <summary>
/// Dynamic MIG under random sequences through the real pipeline on simulated MIG: kubelet Prepare/Unprepare of random
/// placements by random claims (a prepared tenant writes its bytes into its instance's memory), retry passes, clean
/// restarts, kill -9 at every dynamic MIG crash point and at the release's own (the checkpoint and CDI files as they
/// were at that instant, the GPU's memory and instances as they are), and faults (create fails, destroy IN_USE, a stuck
/// cell in one slice). The check is on the memory itself, after every step: every placement offered reads back as
/// zero, no instance was ever destroyed with a non-zero byte in it, and every prepared claim has its CDI spec, handing
/// out exactly the capability nodes of the instance at its own placement (a restart also loses one prepared claim's
/// spec, as a crash between Prepare's two overlapped writes does, and must rebuild it). At the end, with the faults cleared and every
/// claim released, every placement returns and no instance is left.
/// </summary>
public sealed class MigDynamicLifecycleModelTests
{
    private const long Memory = 4L * 1024 * 1024;

    private static readonly string[] CrashPointsUsed =
    [
        CrashPoints.PrepareAfterMigIntent, CrashPoints.PrepareAfterMigCreate, CrashPoints.PrepareAfterMigRecorded, CrashPoints.PrepareAfterCdi,
        CrashPoints.UnprepareAfterCheckpointStarted, CrashPoints.MigAfterInstanceScrub, CrashPoints.MigAfterInstanceDestroy, CrashPoints.UnprepareAfterCdiDelete,
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Random_dynamic_mig_sequences_never_offer_memory_that_is_not_zero_nor_destroy_an_instance_unscrubbed(int seed)
    {
        var random = new Random(seed);
        var (prepared, crashes, destroys) = (0, 0, 0);
        for (var sequence = 0; sequence < 3; sequence++)
        {
            await using var run = new Run(random);
            await run.ExecuteAsync(steps: 40);
            (prepared, crashes, destroys) = (prepared + run.Prepared, crashes + run.CrashesReached, destroys + run.Destroys);
        }

        // The sequences did exercise the lifecycle (not only refusals).
        Assert.True(prepared > 0 && crashes > 0 && destroys > 0, $"prepared {prepared}, crashes reached {crashes}, destroys {destroys}");
    }

    private sealed class Run(Random random) : IAsyncDisposable
    {
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "securedra-mig-model-" + Guid.NewGuid().ToString("N")[..12]);
        private readonly FakeTimeProvider _time = new();
        private readonly List<string> _log = [];
        private readonly HashSet<int> _kubeletHolds = []; // claims the kubelet believes prepared (it keeps calling Unprepare until one succeeds)
        private SimulatedMigBackend _sim = null!;
        private PipelineHarness _h = null!;
        private (byte[]? Checkpoint, Dictionary<string, byte[]> Cdi)? _atCrash;
        private string[] _names = [];

        public int Prepared { get; private set; }

        public int CrashesReached { get; private set; }

        public int Destroys => File.Exists(SimulatedMigBackend.DestroyLogPath(_dir, "gpu-0")) ? File.ReadAllLines(SimulatedMigBackend.DestroyLogPath(_dir, "gpu-0")).Length : 0;

        public async Task ExecuteAsync(int steps)
        {
            Directory.CreateDirectory(_dir);
            using (var vram = new FileStream(VramPath, FileMode.Create))
            {
                vram.SetLength(Memory);
            }

            Faults(new SimulatedFaults { MigEnabled = true });
            _sim = new SimulatedMigBackend(new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = Memory, VramDirectory = _dir, FaultFiles = true });
            _h = PipelineHarness.Create(1, new ClaimPipelineOptions { MigMode = MigMode.Dynamic, MigMinorsPath = SimulatedMigBackend.MinorsPath(_dir) },
                time: _time, mig: _sim, migScrubber: new InProcessMigInstanceScrubber(_sim));
            _h.Backend.MigMode["gpu-0"] = true;
            await _h.StartAsync(loops: true); // the publisher answers a release whose scrub failed; the retry loop also runs on its own
            _names = [.. _h.Inventory.Snapshot().Partitions.Single().Placements.Select(p => p.Name)];
            for (var i = 1; i <= 6; i++)
            {
                _h.Api.PutClaim(TestClaims.Allocated(i, _names[random.Next(_names.Length)]));
            }

            for (var step = 0; step < steps; step++)
            {
                await StepAsync();
                Check($"after step {step}");
            }

            // Liveness: faults cleared, every claim released, the retry loop brings every placement back.
            Faults(new SimulatedFaults { MigEnabled = true });
            foreach (var claim in _kubeletHolds.ToList())
            {
                await UnprepareAsync(claim);
            }

            for (var pass = 0; pass < 60 && _h.Inventory.Snapshot().Partitions.Single().Placements.Any(p => !p.IsOffered); pass++)
            {
                await RetryPassAsync();
            }

            Check("at the end");
            Assert.True(_h.Inventory.Snapshot().Partitions.Single().Placements.All(p => p.IsOffered), "every placement returns once the faults are gone\n" + Log());
            Assert.Empty(await _sim.GetInstancesAsync(Parent, CancellationToken.None));
        }

        private string VramPath => Path.Combine(_dir, "gpu-0.vram");

        private static GpuDevice Parent => SimulatedDeviceCatalog.Device(0, Memory);

        private async Task StepAsync()
        {
            var claim = random.Next(1, 7);
            switch (random.Next(10))
            {
                case < 3:
                    await PrepareAsync(claim);
                    break;
                case < 5:
                    await UnprepareAsync(claim);
                    break;
                case 5:
                    await RetryPassAsync();
                    break;
                case 6:
                    // A restart after a crash between Prepare's two overlapped writes: a prepared claim's spec never
                    // reached the disk. The restart must rebuild it from the claim's own instance (Check).
                    var torn = _h.Journal.Claims().Where(c => c.Value.State == ClaimCheckpointState.Prepared).Select(c => c.Key).Order(StringComparer.Ordinal).FirstOrDefault();
                    _log.Add("restart" + (torn is null ? "" : $", the spec of {torn} lost"));
                    var lost = torn is null ? null : Path.Combine(_h.CdiRoot, _h.Cdi.FileName(torn));
                    await _h.RestartAsync(loops: true, whileStopped: () =>
                    {
                        if (lost is not null)
                        {
                            File.Delete(lost);
                        }
                    });
                    break;
                case < 9:
                    var point = CrashPointsUsed[random.Next(CrashPointsUsed.Length)];
                    _log.Add("crash at " + point);
                    Arm(point);
                    if (point.StartsWith("prepare:", StringComparison.Ordinal))
                    {
                        await PrepareAsync(claim);
                    }
                    else if (_kubeletHolds.Count > 0)
                    {
                        await UnprepareAsync(_kubeletHolds.First());
                    }
                    else
                    {
                        await RetryPassAsync();
                    }

                    await CrashRestartAsync();
                    break;
                default:
                    var faults = random.Next(4) switch
                    {
                        0 => new SimulatedFaults { MigEnabled = true },
                        1 => new SimulatedFaults { MigEnabled = true, MigFailVerifySlice = random.Next(8) },
                        2 => new SimulatedFaults { MigEnabled = true, MigDestroyInUse = true },
                        _ => new SimulatedFaults { MigEnabled = true, MigFailCreate = true },
                    };
                    _log.Add($"faults verify={faults.MigFailVerifySlice} inUse={faults.MigDestroyInUse} create={faults.MigFailCreate}");
                    Faults(faults);
                    break;
            }
        }

        private async Task PrepareAsync(int claim)
        {
            var result = (await _h.Pipeline.PrepareAsync([TestClaims.Ref(claim)], CancellationToken.None))[TestClaims.Uid(claim)];
            _log.Add($"prepare {claim}: {result.Error ?? "ok " + result.Devices[0].DeviceName}");
            if (result.Error is null)
            {
                _kubeletHolds.Add(claim);
                Prepared++;

                // The tenant writes its data into its instance.
                var placement = _h.Inventory.FindPlacement(result.Devices[0].DeviceName)!.Value.Placement;
                Fill(placement, (byte)(0x10 + claim));
            }
        }

        private async Task UnprepareAsync(int claim)
        {
            var error = (await _h.Pipeline.UnprepareAsync([TestClaims.Ref(claim)], CancellationToken.None))[TestClaims.Uid(claim)].Error;
            _log.Add($"unprepare {claim}: {error ?? "ok"}");
            if (error is null)
            {
                _kubeletHolds.Remove(claim);
            }
        }

        private async Task RetryPassAsync()
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await _h.ScrubRetry.RetryDueAsync(CancellationToken.None);
            _time.Advance(TimeSpan.FromSeconds(1));
            await _h.ScrubRetry.RetryDueAsync(CancellationToken.None);
        }

        private void Arm(string point)
        {
            _atCrash = null;
            _h.Crash.FailAt = point;
            _h.Crash.OnFail = _ => _atCrash = (File.Exists(_h.CheckpointPath) ? File.ReadAllBytes(_h.CheckpointPath) : null,
                Directory.Exists(_h.CdiRoot) ? Directory.GetFiles(_h.CdiRoot).ToDictionary(f => f, File.ReadAllBytes) : []);
        }

        /// <summary>Restarts from the disk as it was at the crash point (if it was reached); the GPU's memory and instances stay as they are.</summary>
        private async Task CrashRestartAsync()
        {
            _h.Crash.FailAt = null;
            _h.Crash.OnFail = null;
            if (_atCrash is not { } snapshot)
            {
                return;
            }

            _atCrash = null;
            CrashesReached++;
            await _h.RestartAsync(loops: true, whileStopped: () =>
            {
                if (snapshot.Checkpoint is not null)
                {
                    File.WriteAllBytes(_h.CheckpointPath, snapshot.Checkpoint);
                }

                foreach (var file in Directory.Exists(_h.CdiRoot) ? Directory.GetFiles(_h.CdiRoot) : [])
                {
                    File.Delete(file);
                }

                foreach (var (path, bytes) in snapshot.Cdi)
                {
                    File.WriteAllBytes(path, bytes);
                }
            });
        }

        private void Check(string when)
        {
            var memory = File.ReadAllBytes(VramPath);
            foreach (var placement in _h.Inventory.Snapshot().Partitions.Single().Placements.Where(p => p.IsOffered))
            {
                var (offset, length) = _sim.ByteRange(placement.Placement);
                var bad = memory.AsSpan((int)offset, (int)length).IndexOfAnyExcept((byte)0);
                Assert.True(bad < 0, $"{when}: {placement.Name} is offered but byte {bad} of its memory is not zero\n{Log()}");
            }

            // Every prepared claim has its CDI spec, and it hands out exactly the capability nodes of the instance at the
            // claim's own placement: never another instance's (another tenant's) memory.
            var minorsPath = SimulatedMigBackend.MinorsPath(_dir);
            var minors = File.Exists(minorsPath) ? MigCapabilityMinorsParser.Parse(File.ReadAllText(minorsPath)) : null;
            var instances = _sim.GetInstancesAsync(Parent, CancellationToken.None).GetAwaiter().GetResult();
            var specs = Directory.Exists(_h.CdiRoot) ? Directory.GetFiles(_h.CdiRoot).Select(Path.GetFileName).Where(f => _h.Cdi.ClaimUidOf(f!) is not null).ToList() : [];
            foreach (var (uid, claim) in _h.Journal.Claims().Where(c => c.Value.State == ClaimCheckpointState.Prepared))
            {
                Assert.True(specs.Contains(_h.Cdi.FileName(uid)), $"{when}: prepared claim {uid} has no CDI spec\n{Log()}");
            }

            foreach (var file in specs)
            {
                var uid = _h.Cdi.ClaimUidOf(file!)!;
                Assert.True(_h.Journal.Get(uid)?.State == ClaimCheckpointState.Prepared, $"{when}: CDI spec {file} belongs to no prepared claim\n{Log()}");
                var spec = JsonNode.Parse(File.ReadAllText(Path.Combine(_h.CdiRoot, file!)))!;
                foreach (var device in spec["devices"]!.AsArray())
                {
                    var name = ((string)device!["name"]!)[(uid.Length + 1)..];
                    var at = _h.Inventory.FindPlacement(name)!.Value.Placement;
                    var instance = instances.SingleOrDefault(i => i.Placement == at);
                    Assert.True(instance is { Uuid: not null } && minors is not null, $"{when}: claim {uid}'s spec names {name}, where no instance is\n{Log()}");
                    var caps = device["containerEdits"]!["deviceNodes"]!.AsArray().Select(n => (string)n!["path"]!).Where(n => n.StartsWith(MigCapabilityMinors.CapabilityNodeDirectory, StringComparison.Ordinal));
                    Assert.Equal(minors!.AccessNodes(0, instance!.GpuInstanceId, instance.ComputeInstances[0].Id), caps);
                }
            }

            var destroys = SimulatedMigBackend.DestroyLogPath(_dir, "gpu-0");
            foreach (var line in File.Exists(destroys) ? File.ReadAllLines(destroys) : [])
            {
                Assert.True(line.EndsWith(" nonzero=0", StringComparison.Ordinal), $"{when}: an instance was destroyed unscrubbed: {line}\n{Log()}");
            }
        }

        private string Log() => string.Join("\n", _log.TakeLast(40));

        private void Faults(SimulatedFaults faults) => SimulatedFaultFile.Write(_dir, "gpu-0", faults);

        private void Fill(MigPlacement placement, byte value) => MigVram.Fill(_sim, VramPath, placement, value);

        public async ValueTask DisposeAsync()
        {
            if (_h is not null)
            {
                await _h.DisposeAsync();
            }

            Directory.Delete(_dir, recursive: true);
        }
    }
}
