using System.Text.Json.Nodes;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.KubeletPlugin.Tests.Mig;

/// <summary>
/// Dynamic MIG through the real claim pipeline on simulated MIG (H100-80GB): Prepare creates the instance after a durable
/// intent, Unprepare scrubs it and only then destroys it, start-up recovery scrubs and destroys instances no prepared
/// claim records, and dirty slices without an instance are scrubbed through a temporary instance. The simulated backend
/// logs the non-zero bytes of every instance at the moment it is destroyed (its destroy log), so "never destroyed
/// unscrubbed" is checked on the memory itself, not on the plugin's word.
/// </summary>
public sealed class MigDynamicLifecycleTests : IAsyncLifetime
{
    private const long Memory = 8L * 1024 * 1024;
    private const string X = "gpu-0-mig-2g20gb-14-2"; // tenant A: slices 2-3
    private const string Y = "gpu-0-mig-1g10gb-19-4"; // tenant B, the neighbour: slice 4
    private const string Over = "gpu-0-mig-4g40gb-5-0"; // overlaps X (slices 0-3), not Y
    private static readonly MigPlacement XAt = new(2, 2);
    private static readonly MigPlacement YAt = new(4, 1);

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "securedra-mig-dynamic-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly SimulatedMigBackend _sim;
    private readonly GpuDevice _parent = SimulatedDeviceCatalog.Device(0, Memory);
    private readonly RecordingMigBackend _mig;
    private PipelineHarness? _h;

    public MigDynamicLifecycleTests()
    {
        Directory.CreateDirectory(_dir);
        using (var vram = new FileStream(VramPath, FileMode.Create))
        {
            vram.SetLength(Memory);
        }

        Faults(new SimulatedFaults { MigEnabled = true });
        _sim = new SimulatedMigBackend(new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = Memory, VramDirectory = _dir, FaultFiles = true });
        _mig = new RecordingMigBackend(_sim, () => File.Exists(CheckpointPath) ? File.ReadAllText(CheckpointPath) : "");
        Scrubber = new InProcessMigInstanceScrubber(_sim);
        _gate = new GatedScrubber(Scrubber);
    }

    private readonly GatedScrubber _gate;

    private string VramPath => Path.Combine(_dir, "gpu-0.vram");

    private string CheckpointPath => _h!.CheckpointPath;

    private InProcessMigInstanceScrubber Scrubber { get; }

    private PipelineHarness H => _h!;

    public Task InitializeAsync() => Task.CompletedTask;

    // IAsyncLifetime, not IAsyncDisposable: xUnit v2 never calls IAsyncDisposable on a test class.
    public async Task DisposeAsync()
    {
        if (_h is not null)
        {
            await _h.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    private void Faults(SimulatedFaults faults) => SimulatedFaultFile.Write(_dir, "gpu-0", faults);

    private async Task StartAsync(bool loops = false, bool slowRetry = false)
    {
        var options = new ClaimPipelineOptions { MigMode = MigMode.Dynamic, MigMinorsPath = SimulatedMigBackend.MinorsPath(_dir) };
        if (slowRetry)
        {
            options = options with { ScrubRetryInitial = TimeSpan.FromMilliseconds(500), ScrubRetryMax = TimeSpan.FromSeconds(1) };
        }

        _h = PipelineHarness.Create(1, options, mig: _mig, migScrubber: _mig.Wrap(_gate));
        _h.Backend.MigMode["gpu-0"] = true;
        await _h.StartAsync(loops);
    }

    /// <summary>Both tenants prepared (X for claim 1, Y for claim 2), their canaries written into their instances.</summary>
    private async Task TwoTenantsAsync(bool loops = false, bool slowRetry = false)
    {
        await StartAsync(loops, slowRetry);
        H.Api.PutClaim(TestClaims.Allocated(1, X));
        H.Api.PutClaim(TestClaims.Allocated(2, Y));
        var prepared = await H.Pipeline.PrepareAsync([TestClaims.Ref(1), TestClaims.Ref(2)], CancellationToken.None);
        Assert.Null(prepared[TestClaims.Uid(1)].Error);
        Assert.Null(prepared[TestClaims.Uid(2)].Error);
        Fill(XAt, 0xA1);
        Fill(YAt, 0xB2);
    }

    private async Task<IReadOnlyList<MigInstance>> InstancesAsync() => await _sim.GetInstancesAsync(_parent, CancellationToken.None);

    [Fact]
    public async Task Prepare_records_the_intent_durably_before_creating_then_records_the_instance_and_hands_out_its_nodes()
    {
        await TwoTenantsAsync();

        var instances = await InstancesAsync();
        var x = Assert.Single(instances, i => i.Placement == XAt);
        Assert.Equal(SimulatedMigProfiles.Profile2g, x.ProfileId);
        Assert.NotNull(x.Uuid);
        Assert.Single(instances, i => i.Placement == YAt);

        // The checkpoint the create saw already named the claim's placement (the intent), with no instance id yet.
        var atCreate = _mig.CheckpointAtCreate[XAt];
        var intent = FindClaimDevice(Payload(atCreate), TestClaims.Uid(1), X)!["migInstance"]!;
        Assert.Equal(2, (int)intent["start"]!);
        Assert.Null(intent["gpuInstanceId"]);

        // Then the ids and the MIG UUID are durable, and the container gets the parent node and the instance's two capability nodes.
        var recorded = FindClaimDevice(Payload(await File.ReadAllTextAsync(CheckpointPath)), TestClaims.Uid(1), X)!;
        Assert.Equal(x.Uuid, (string)recorded["uuid"]!);
        Assert.Equal(x.GpuInstanceId, (int)recorded["migInstance"]!["gpuInstanceId"]!);
        Assert.Equal(x.Uuid, (string)recorded["migInstance"]!["uuid"]!);
        var minors = MigCapabilityMinorsParser.Parse(await File.ReadAllTextAsync(SimulatedMigBackend.MinorsPath(_dir)));
        var spec = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(H.CdiRoot, H.Cdi.FileName(TestClaims.Uid(1)))))!;
        var nodes = spec["devices"]!.AsArray().Single()!["containerEdits"]!["deviceNodes"]!.AsArray().Select(n => (string)n!["path"]!).ToList();
        Assert.Equal(["/dev/nvidia0", .. minors.AccessNodes(0, x.GpuInstanceId, 0), "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"], nodes);
        Assert.Equal(DeviceState.Prepared, H.Inventory.GetPlacement(X)!.State);
        Assert.False(H.Inventory.GetPlacement(Over)!.IsOffered, "a placement overlapping a held instance is not offered");

        // Idempotent: the kubelet's retry is answered from the checkpoint and creates nothing.
        var again = (await H.Pipeline.PrepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)];
        Assert.Null(again.Error);
        Assert.Equal(2, (await InstancesAsync()).Count);
        Assert.Equal(2, _mig.Operations.Count(o => o.StartsWith("create-gi", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Release_scrubs_then_destroys_exactly_its_instance_and_the_neighbour_keeps_its_bytes_and_instance()
    {
        await TwoTenantsAsync();

        var released = (await H.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)];

        Assert.Null(released.Error);
        var instances = await InstancesAsync();
        Assert.DoesNotContain(instances, i => i.Placement == XAt);
        Assert.Single(instances, i => i.Placement == YAt);
        var destroyed = Assert.Single(DestroyLog());
        Assert.Equal((2, 2, 0L), (destroyed.Start, destroyed.Size, destroyed.NonZero)); // zero at the moment of the destroy
        var gi = $"gi={destroyed.GpuInstanceId}";
        Assert.Equal([$"scrub {gi}", $"destroy-ci {gi}", $"destroy-gi {gi}"], _mig.Operations.Where(o => o.EndsWith(gi, StringComparison.Ordinal) && !o.StartsWith("create", StringComparison.Ordinal)));
        AssertBytes(XAt, 0x00);
        AssertBytes(YAt, 0xB2);
        Assert.True(H.Inventory.GetPlacement(X)!.IsOffered);
        Assert.Equal(DeviceState.Prepared, H.Inventory.GetPlacement(Y)!.State);

        // Durable: the restart finds Y's instance recorded as prepared (re-adopted, not scrubbed) and X's slices clean.
        await H.RestartAsync();
        Assert.True(H.Inventory.GetPlacement(X)!.IsOffered);
        Assert.Equal(DeviceState.Prepared, H.Inventory.GetPlacement(Y)!.State);
        Assert.Single(await InstancesAsync());
        Assert.Equal(1, Scrubber.Calls);
        AssertBytes(YAt, 0xB2);
    }

    [Fact]
    public async Task A_create_failure_releases_the_reservation_and_names_the_device_and_the_driver_error()
    {
        await StartAsync();
        Faults(new SimulatedFaults { MigEnabled = true, MigFailCreate = true });
        H.Api.PutClaim(TestClaims.Allocated(1, X));

        var result = (await H.Pipeline.PrepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)];

        Assert.Contains($"device {X}: creating the MIG GPU instance on GPU gpu-0 failed", result.Error, StringComparison.Ordinal);
        Assert.Contains("NVML_ERROR_UNKNOWN", result.Error, StringComparison.Ordinal);
        Assert.True(H.Inventory.GetPlacement(X)!.IsOffered, "nothing ran: the slices stay clean");
        Assert.Null(H.Journal.Get(TestClaims.Uid(1)));
        Assert.Empty(H.CdiFiles());
        Assert.Empty(await InstancesAsync());

        // An occupied placement (INSUFFICIENT_RESOURCES) is refused the same way; the stranger's instance is untouched.
        Faults(new SimulatedFaults { MigEnabled = true });
        var stranger = await _sim.CreateGpuInstanceAsync(_parent, SimulatedMigProfiles.Profile1g, new MigPlacement(2, 1), CancellationToken.None);
        result = (await H.Pipeline.PrepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)];
        Assert.Contains("NVML_ERROR_INSUFFICIENT_RESOURCES", result.Error, StringComparison.Ordinal);
        Assert.Equal(stranger.GpuInstanceId, Assert.Single(await InstancesAsync()).GpuInstanceId);
        Assert.Empty(DestroyLog());
    }

    [Fact]
    public async Task A_failed_scrub_keeps_the_instance_withdraws_overlaps_and_parent_and_the_retry_scrubs_before_it_destroys()
    {
        await TwoTenantsAsync(loops: true, slowRetry: true);
        Faults(new SimulatedFaults { MigEnabled = true, MigFailVerifySlice = 3 });

        var released = (await H.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)];

        Assert.Null(released.Error); // answered once the withdrawal is published
        Assert.Single(await InstancesAsync(), i => i.Placement == XAt); // kept: never destroyed unscrubbed
        Assert.Empty(DestroyLog());
        Assert.Equal(DeviceState.Dirty, H.Inventory.GetPlacement(X)!.State);
        Assert.Contains(WithdrawalReason.ScrubFailed, H.Inventory.GetPlacement(Over)!.Withdrawals.Keys);
        Assert.Contains(WithdrawalReason.ScrubFailed, H.Inventory.Get("gpu-0")!.Withdrawals.Keys);
        Assert.Equal(DeviceState.Prepared, H.Inventory.GetPlacement(Y)!.State);
        AssertBytes(YAt, 0xB2);

        await Poll.UntilAsync(() => Scrubber.Calls >= 3, "the retry loop scrubs the kept instance again", TimeSpan.FromSeconds(15));
        Assert.Single(await InstancesAsync(), i => i.Placement == XAt);
        Faults(new SimulatedFaults { MigEnabled = true });
        await Poll.UntilAsync(() => H.Inventory.GetPlacement(X)!.IsOffered, "verified, destroyed, offered again", TimeSpan.FromSeconds(15));

        Assert.DoesNotContain(await InstancesAsync(), i => i.Placement == XAt);
        Assert.Equal(0L, Assert.Single(DestroyLog()).NonZero);
        AssertBytes(XAt, 0x00);
        AssertBytes(YAt, 0xB2);
        Assert.True(H.Inventory.GetPlacement(Over)!.IsOffered);
    }

    [Fact]
    public async Task A_placement_is_not_published_while_its_dirty_memory_is_being_scrubbed()
    {
        await TwoTenantsAsync(loops: true, slowRetry: true);
        Faults(new SimulatedFaults { MigEnabled = true, MigFailVerifySlice = 3 });
        Assert.Null((await H.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)].Error);
        Faults(new SimulatedFaults { MigEnabled = true });

        // The retry loop's scrub of the kept instance is held mid-way: the memory is still unverified.
        _gate.Close();
        await _gate.Entered.WaitAsync(TimeSpan.FromSeconds(15));
        await H.Publisher.WaitForPublishedAsync(H.Inventory.Version, CancellationToken.None);
        var published = H.Api.Slices.SelectMany(s => s.Devices).Select(d => d.Name).ToHashSet();
        Assert.DoesNotContain(X, published);
        Assert.DoesNotContain(Over, published);
        Assert.Contains(Y, published); // allocated devices stay published; only withdrawn ones leave

        _gate.Open();
        await Poll.UntilAsync(() => H.Inventory.GetPlacement(X)!.IsOffered, "verified, destroyed, offered", TimeSpan.FromSeconds(15));
        await H.Publisher.WaitForPublishedAsync(H.Inventory.Version, CancellationToken.None);
        Assert.Contains(X, H.Api.Slices.SelectMany(s => s.Devices).Select(d => d.Name));
    }

    [Fact]
    public async Task An_instance_in_use_at_destroy_stays_withdrawn_and_is_scrubbed_again_before_the_next_destroy()
    {
        await TwoTenantsAsync(loops: true, slowRetry: true);
        Faults(new SimulatedFaults { MigEnabled = true, MigDestroyInUse = true });

        Assert.Null((await H.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)].Error);

        Assert.Equal(1, Scrubber.Calls);
        Assert.Single(await InstancesAsync(), i => i.Placement == XAt);
        Assert.Equal(DeviceState.Dirty, H.Inventory.GetPlacement(X)!.State);
        Assert.False(H.Inventory.GetPlacement(X)!.IsOffered);

        // Something may have run on it meanwhile (IN_USE): the retry scrubs again, then destroys.
        Fill(XAt, 0xC3);
        Faults(new SimulatedFaults { MigEnabled = true });
        await Poll.UntilAsync(() => H.Inventory.GetPlacement(X)!.IsOffered, "scrubbed again, destroyed, offered", TimeSpan.FromSeconds(15));
        Assert.True(Scrubber.Calls >= 2);
        Assert.Equal(0L, Assert.Single(DestroyLog()).NonZero);
        AssertBytes(XAt, 0x00);
        AssertBytes(YAt, 0xB2);
    }

    [Fact]
    public async Task Start_up_scrubs_then_destroys_every_instance_no_prepared_claim_records_and_keeps_one_whose_scrub_fails()
    {
        // Leftovers: a full instance with a stranger's bytes, a GPU instance without a compute instance, and one over a stuck cell.
        var full = await _sim.CreateComputeInstanceAsync(_parent, (await _sim.CreateGpuInstanceAsync(_parent, SimulatedMigProfiles.Profile2g, XAt, CancellationToken.None)).GpuInstanceId, CancellationToken.None);
        var bare = await _sim.CreateGpuInstanceAsync(_parent, SimulatedMigProfiles.Profile1g, YAt, CancellationToken.None);
        var stuck = await _sim.CreateGpuInstanceAsync(_parent, SimulatedMigProfiles.Profile1g, new MigPlacement(6, 1), CancellationToken.None);
        Fill(XAt, 0xA1);
        Fill(YAt, 0xB2);
        Fill(new MigPlacement(6, 1), 0xD4);
        Faults(new SimulatedFaults { MigEnabled = true, MigFailVerifySlice = 6 });

        await StartAsync();

        var left = Assert.Single(await InstancesAsync());
        Assert.Equal(stuck.GpuInstanceId, left.GpuInstanceId);
        Assert.All(DestroyLog(), d => Assert.Equal(0L, d.NonZero));
        Assert.Equal([full.GpuInstanceId, bare.GpuInstanceId], DestroyLog().Select(d => d.GpuInstanceId).Order());
        AssertBytes(XAt, 0x00);
        AssertBytes(YAt, 0x00);
        Assert.True(H.Inventory.GetPlacement(X)!.IsOffered);
        Assert.True(H.Inventory.GetPlacement(Y)!.IsOffered);
        Assert.False(H.Inventory.GetPlacement("gpu-0-mig-1g10gb-19-6")!.IsOffered, "the instance whose scrub failed stays withdrawn");
        Assert.Contains(WithdrawalReason.ScrubFailed, H.Inventory.Get("gpu-0")!.Withdrawals.Keys);
        Assert.DoesNotContain(_mig.Operations, o => o == $"destroy-gi gi={stuck.GpuInstanceId}");
    }

    [Fact]
    public async Task Dirty_slices_without_an_instance_are_scrubbed_through_a_temporary_instance_before_they_are_offered()
    {
        await TwoTenantsAsync(slowRetry: true);

        // The release stops after the destroy, before the slices are recorded Clean; the tenant's bytes are back (assume the worst).
        CrashAt(CrashPoints.MigAfterInstanceDestroy);
        await H.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None);
        Assert.DoesNotContain(await InstancesAsync(), i => i.Placement == XAt);
        Fill(XAt, 0xA1);
        var before = _mig.Operations.Count;

        await RestartAfterCrashAsync();
        Assert.False(H.Inventory.GetPlacement(X)!.IsOffered, "not offered before a verified scrub");
        await Poll.UntilAsync(() => H.Inventory.GetPlacement(X)!.IsOffered, "scrubbed through a temporary instance and offered", TimeSpan.FromSeconds(15));

        Assert.Contains(_mig.Operations.Skip(before), o => o.StartsWith("create-gi", StringComparison.Ordinal)); // a temporary instance over the dirty slices
        Assert.Equal([YAt], (await InstancesAsync()).Select(i => i.Placement)); // every temporary instance is gone again
        Assert.All(DestroyLog(), d => Assert.Equal(0L, d.NonZero));
        Assert.True(DestroyLog().Count >= 2, "the release's destroy and the temporary instance's");
        AssertBytes(XAt, 0x00);
        AssertBytes(YAt, 0xB2);
        Assert.Equal(DeviceState.Prepared, H.Inventory.GetPlacement(Y)!.State);
    }

    [Theory]
    [InlineData(CrashPoints.PrepareAfterMigIntent)]
    [InlineData(CrashPoints.PrepareAfterMigCreate)]
    [InlineData(CrashPoints.PrepareAfterMigRecorded)]
    public async Task A_prepare_stopped_around_the_create_never_offers_the_memory_before_its_instance_is_scrubbed_and_destroyed(string point)
    {
        await StartAsync(slowRetry: true);
        H.Api.PutClaim(TestClaims.Allocated(2, Y));
        Assert.Null((await H.Pipeline.PrepareAsync([TestClaims.Ref(2)], CancellationToken.None))[TestClaims.Uid(2)].Error);
        Fill(YAt, 0xB2);
        H.Api.PutClaim(TestClaims.Allocated(1, X));
        CrashAt(point);

        Assert.NotNull((await H.Pipeline.PrepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)].Error);
        Fill(XAt, 0xA1);

        await RestartAfterCrashAsync();
        await Poll.UntilAsync(() => H.Inventory.GetPlacement(X)!.IsOffered, "cleaned and offered", TimeSpan.FromSeconds(15));

        Assert.DoesNotContain(await InstancesAsync(), i => i.Placement == XAt);
        Assert.All(DestroyLog(), d => Assert.Equal(0L, d.NonZero));
        AssertBytes(XAt, 0x00);
        AssertBytes(YAt, 0xB2);
        Assert.Null(H.Journal.Get(TestClaims.Uid(1)));

        // The kubelet's retry of the prepare now succeeds with a fresh instance.
        var again = (await H.Pipeline.PrepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)];
        Assert.Null(again.Error);
        Assert.Single(await InstancesAsync(), i => i.Placement == XAt);
    }

    /// <summary>Holds every scrub at its start while closed (a test looks at the node mid-scrub), then lets it run.</summary>
    private sealed class GatedScrubber(IMigInstanceScrubber inner) : IMigInstanceScrubber
    {
        private volatile TaskCompletionSource _open = Opened();

        public SemaphoreSlim Entered { get; } = new(0);

        public void Close() => _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Open() => _open.TrySetResult();

        public async Task<MigScrubResult> ScrubAsync(GpuDevice parent, MigInstance instance, ScrubTrigger trigger, CancellationToken cancellationToken)
        {
            var open = _open;
            if (!open.Task.IsCompleted)
            {
                Entered.Release();
                await open.Task.WaitAsync(cancellationToken);
            }

            return await inner.ScrubAsync(parent, instance, trigger, cancellationToken);
        }

        private static TaskCompletionSource Opened()
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            done.SetResult();
            return done;
        }
    }

    private (byte[]? Checkpoint, Dictionary<string, byte[]> Cdi)? _atCrash;

    /// <summary>
    /// The in-process stand-in for kill -9 at <paramref name="point"/>: the crash injector throws there (the old "process"
    /// may then tidy up in memory), and <see cref="RestartAfterCrashAsync"/> puts the checkpoint and CDI files back as they
    /// were at that instant before the new process starts. The real-process version is tests/EndToEnd.Tests/MigDynamicCrashTests.
    /// </summary>
    private void CrashAt(string point)
    {
        H.Crash.FailAt = point;
        H.Crash.OnFail = _ => _atCrash = (File.Exists(CheckpointPath) ? File.ReadAllBytes(CheckpointPath) : null,
            Directory.Exists(H.CdiRoot) ? Directory.GetFiles(H.CdiRoot).ToDictionary(f => f, File.ReadAllBytes) : []);
    }

    private Task RestartAfterCrashAsync()
    {
        Assert.True(_atCrash is not null, "the crash point was not reached");
        var (checkpoint, cdi) = _atCrash!.Value;
        H.Crash.FailAt = null;
        H.Crash.OnFail = null;
        return H.RestartAsync(loops: true, whileStopped: () =>
        {
            if (checkpoint is not null)
            {
                File.WriteAllBytes(CheckpointPath, checkpoint);
            }

            foreach (var file in Directory.Exists(H.CdiRoot) ? Directory.GetFiles(H.CdiRoot) : [])
            {
                File.Delete(file);
            }

            foreach (var (path, bytes) in cdi)
            {
                File.WriteAllBytes(path, bytes);
            }
        });
    }

    private List<(int GpuInstanceId, int Start, int Size, long NonZero)> DestroyLog()
    {
        var path = SimulatedMigBackend.DestroyLogPath(_dir, "gpu-0");
        return !File.Exists(path) ? [] : [.. File.ReadAllLines(path).Select(ParseDestroy)];
    }

    internal static (int GpuInstanceId, int Start, int Size, long NonZero) ParseDestroy(string line)
    {
        var fields = line.Split(' ').Select(f => f.Split('=')).ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
        return ((int)fields["gi"], (int)fields["start"], (int)fields["size"], fields["nonzero"]);
    }

    /// <summary>The checkpoint's JSON payload (after its checksum header line).</summary>
    private static JsonNode Payload(string checkpoint) => JsonNode.Parse(checkpoint[(checkpoint.IndexOf('\n', StringComparison.Ordinal) + 1)..])!;

    private static JsonObject? FindClaimDevice(JsonNode checkpoint, string claimUid, string device)
    {
        var stack = new Stack<JsonNode>([checkpoint]);
        while (stack.Count > 0)
        {
            if (stack.Pop() is JsonObject o)
            {
                if (o["claims"] is JsonObject claims && claims[claimUid] is JsonObject claim)
                {
                    return claim["devices"]!.AsArray().Select(d => d!.AsObject()).FirstOrDefault(d => (string)d["name"]! == device);
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

        return null;
    }

    private void Fill(MigPlacement placement, byte value) => MigVram.Fill(_sim, VramPath, placement, value);

    private void AssertBytes(MigPlacement placement, byte value) => MigVram.AssertBytes(_sim, VramPath, placement, value);
}
