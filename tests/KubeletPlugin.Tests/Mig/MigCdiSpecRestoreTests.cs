using System.Text;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.KubeletPlugin.Tests.Mig;

/// <summary>
/// A MIG claim's CDI spec is written beside its Prepared commit, like a whole GPU's, so a crash can leave the claim
/// Prepared without its spec. The checkpoint records the instance the spec was built from; start-up and the retried
/// Prepare find that instance again and rebuild the spec byte for byte, and refuse when the instance there is another
/// one (re-created, gone) or the checkpoint predates the record. Real pipeline, simulated MIG (H100-80GB), static and
/// dynamic modes.
/// </summary>
public sealed class MigCdiSpecRestoreTests : IAsyncLifetime
{
    private const long Memory = 8L * 1024 * 1024;
    private const string X = "gpu-0-mig-2g20gb-14-2"; // slices 2-3
    private static readonly MigPlacement XAt = new(2, 2);

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "securedra-mig-cdi-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly SimulatedMigBackend _sim;
    private readonly FailingMigBackend _mig;
    private readonly GpuDevice _parent = SimulatedDeviceCatalog.Device(0, Memory);
    private PipelineHarness? _h;

    public MigCdiSpecRestoreTests()
    {
        _sim = MigVram.CreateGpu(_dir, Memory);
        _mig = new FailingMigBackend(_sim);
    }

    private PipelineHarness H => _h!;

    private string SpecPath => Path.Combine(H.CdiRoot, $"k8s.{TestClaims.Driver}-claim_{TestClaims.Uid(1)}.json");

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

    private double Restored(string outcome) => H.Metrics.Counter("securedra_cdi_spec_restored_total", "", "outcome").Value(outcome);

    /// <summary>Claim 1 prepared on X: static mode on an administrator's instance there, dynamic mode on the instance Prepare creates.</summary>
    private async Task<byte[]> PreparedAsync(MigMode mode)
    {
        if (mode == MigMode.Static)
        {
            await CreateInstanceAsync();
        }

        _h = PipelineHarness.Create(1, new ClaimPipelineOptions { MigMode = mode, MigMinorsPath = SimulatedMigBackend.MinorsPath(_dir) }, mig: _mig, migScrubber: new InProcessMigInstanceScrubber(_sim));
        _h.Backend.MigMode["gpu-0"] = true;
        await _h.StartAsync();
        H.Api.PutClaim(TestClaims.Allocated(1, X));
        Assert.Null((await H.Pipeline.PrepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)].Error);
        return await File.ReadAllBytesAsync(SpecPath);
    }

    /// <summary>The instance at X, created as an administrator (or NVML for a re-created one) does: a new MIG UUID each time.</summary>
    private async Task<MigInstance> CreateInstanceAsync()
    {
        var gi = await _sim.CreateGpuInstanceAsync(_parent, SimulatedMigProfiles.Profile2g, XAt, CancellationToken.None);
        return await _sim.CreateComputeInstanceAsync(_parent, gi.GpuInstanceId, CancellationToken.None);
    }

    private async Task<MigInstance> InstanceAtXAsync() => (await _sim.GetInstancesAsync(_parent, CancellationToken.None)).Single(i => i.Placement == XAt);

    private void DestroyX()
    {
        var x = InstanceAtXAsync().GetAwaiter().GetResult();
        _sim.DestroyComputeInstanceAsync(_parent, x.GpuInstanceId, x.ComputeInstances[0].Id, CancellationToken.None).GetAwaiter().GetResult();
        _sim.DestroyGpuInstanceAsync(_parent, x.GpuInstanceId, CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>The checkpoint as a build before <c>migSpec</c> wrote it: the same claims, no migSpec, a valid header and hash.</summary>
    private void RewriteWithoutMigSpec()
    {
        var file = new CheckpointFile(H.DataDir, "checkpoint.json", 4 * 1024 * 1024);
        var data = file.ReadAsync(CancellationToken.None).GetAwaiter().GetResult()!;
        foreach (var device in data.Claims.Values.SelectMany(c => c.Devices))
        {
            device.MigSpec = null;
        }

        file.WriteAsync(data, CancellationToken.None).GetAwaiter().GetResult();
        Assert.DoesNotContain("migSpec", File.ReadAllText(H.CheckpointPath), StringComparison.Ordinal);
    }

    /// <summary>The claim still holds X's memory slices, and nothing over them is offered.</summary>
    private void AssertHeldNotOffered()
    {
        var partition = H.Inventory.Snapshot().Partitions.Single();
        Assert.All(partition.Slices.Skip(XAt.Start).Take(XAt.Size), s => Assert.Equal(TestClaims.Uid(1), s.ClaimUid));
        Assert.DoesNotContain(partition.Placements, p => p.IsOffered && p.Placement.Start < XAt.Start + XAt.Size && XAt.Start < p.Placement.Start + p.Placement.Size);
        if (H.Inventory.GetPlacement(X) is { } placement)
        {
            Assert.Equal(DeviceState.Prepared, placement.State);
            Assert.Equal(TestClaims.Uid(1), placement.ClaimUid);
        }
    }

    [Theory]
    [InlineData(MigMode.Static)]
    [InlineData(MigMode.Dynamic)]
    public async Task A_MIG_spec_lost_after_the_commit_is_rewritten_byte_for_byte_at_start_up_and_on_a_retried_Prepare(MigMode mode)
    {
        var spec = await PreparedAsync(mode);
        Assert.Contains("nvidia-cap", Encoding.UTF8.GetString(spec), StringComparison.Ordinal);
        var instance = await InstanceAtXAsync();

        // The disk a crash between the two overlapped writes leaves: Prepared durable, no spec.
        await H.RestartAsync(whileStopped: () => File.Delete(SpecPath));

        Assert.Equal(spec, await File.ReadAllBytesAsync(SpecPath));
        Assert.Equal(1, Restored("missing"));
        AssertHeldNotOffered();

        // Deleted under the running plugin: back before the kubelet's retried Prepare is answered, with the same IDs.
        File.Delete(SpecPath);
        var again = (await H.Pipeline.PrepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)];
        Assert.Null(again.Error);
        Assert.Equal([H.Cdi.DeviceId(TestClaims.Uid(1), X)], again.Devices.Single().CdiDeviceIds);
        Assert.Equal(spec, await File.ReadAllBytesAsync(SpecPath));
        Assert.Equal(2, Restored("missing"));

        // Nothing was created or destroyed to do it: the same instance.
        var now = await InstanceAtXAsync();
        Assert.Equal((instance.Uuid, instance.GpuInstanceId), (now.Uuid, now.GpuInstanceId));
    }

    [Theory]
    [InlineData(MigMode.Static)]
    [InlineData(MigMode.Dynamic)]
    public async Task A_tampered_MIG_spec_is_rewritten_at_start_up(MigMode mode)
    {
        var spec = await PreparedAsync(mode);
        // An attacker with a foothold in the CDI root hands the claim's containers another capability node.
        var text = Encoding.UTF8.GetString(spec);
        var tampered = text.Replace("\"/dev/nvidia0\"", "\"/dev/nvidia0\"},{\"path\":\"/dev/nvidia-caps/nvidia-cap999\"", StringComparison.Ordinal);
        Assert.NotEqual(text, tampered);

        await H.RestartAsync(whileStopped: () => File.WriteAllText(SpecPath, tampered));

        Assert.Equal(spec, await File.ReadAllBytesAsync(SpecPath));
        Assert.Equal(1, Restored("differed"));
    }

    [Theory]
    [InlineData(MigMode.Static)]
    [InlineData(MigMode.Dynamic)]
    public async Task A_MIG_spec_whose_instance_was_recreated_is_not_rebuilt_and_the_placement_stays_held(MigMode mode)
    {
        await PreparedAsync(mode);
        var recorded = await InstanceAtXAsync();
        MigInstance? recreated = null;

        // Behind the plugin: the instance destroyed and another created at the same placement (a new MIG UUID).
        await H.RestartAsync(whileStopped: () =>
        {
            File.Delete(SpecPath);
            DestroyX();
            recreated = CreateInstanceAsync().GetAwaiter().GetResult();
        });

        Assert.NotEqual(recorded.Uuid, recreated!.Uuid);
        Assert.False(File.Exists(SpecPath), "a spec was built from an instance the claim was never given");
        Assert.Equal(1, Restored("unrestorable"));
        Assert.Equal(0, Restored("missing"));
        AssertHeldNotOffered();

        // The retried Prepare does not build it either.
        var again = (await H.Pipeline.PrepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)];
        Assert.Null(again.Error);
        Assert.False(File.Exists(SpecPath));
        Assert.Equal(2, Restored("unrestorable"));
        AssertHeldNotOffered();
    }

    [Theory]
    [InlineData(MigMode.Static, true)]
    [InlineData(MigMode.Static, false)]
    [InlineData(MigMode.Dynamic, true)]
    [InlineData(MigMode.Dynamic, false)]
    public async Task A_spec_left_for_a_MIG_instance_that_is_no_longer_there_is_removed_at_start_up(MigMode mode, bool recreate)
    {
        await PreparedAsync(mode);

        // The spec survived; its instance did not (re-created with a new UUID, or destroyed): the capability nodes it
        // names may belong to another instance now.
        await H.RestartAsync(whileStopped: () =>
        {
            DestroyX();
            if (recreate)
            {
                CreateInstanceAsync().GetAwaiter().GetResult();
            }
        });

        Assert.False(File.Exists(SpecPath), "a spec for an instance that is no longer there was left in the CDI root");
        Assert.Equal(1, Restored("removed"));
        Assert.Equal(0, Restored("missing") + Restored("differed") + Restored("unrestorable"));
        AssertHeldNotOffered();
    }

    [Fact]
    public async Task A_spec_of_an_old_format_checkpoint_is_left_alone_when_its_instance_is_intact()
    {
        var spec = await PreparedAsync(MigMode.Static);

        await H.RestartAsync(whileStopped: () => RewriteWithoutMigSpec());

        Assert.Equal(spec, await File.ReadAllBytesAsync(SpecPath));
        Assert.Equal(0, Restored("removed") + Restored("unrestorable") + Restored("missing") + Restored("differed"));
    }

    [Theory]
    [InlineData(MigMode.Static)]
    [InlineData(MigMode.Dynamic)]
    public async Task A_MIG_spec_whose_instance_is_gone_is_not_rebuilt(MigMode mode)
    {
        await PreparedAsync(mode);

        await H.RestartAsync(whileStopped: () =>
        {
            File.Delete(SpecPath);
            DestroyX();
        });

        Assert.False(File.Exists(SpecPath));
        Assert.Equal(1, Restored("unrestorable"));
        AssertHeldNotOffered();
    }

    [Theory]
    [InlineData(MigMode.Static)]
    [InlineData(MigMode.Dynamic)]
    public async Task An_old_format_checkpoint_without_migSpec_loads_and_its_MIG_spec_stays_unrestorable(MigMode mode)
    {
        await PreparedAsync(mode);
        Assert.Contains("\"migSpec\":{\"parentUuid\":", await File.ReadAllTextAsync(H.CheckpointPath), StringComparison.Ordinal);

        // The file an earlier build wrote: the same claim, no migSpec, a valid header and hash.
        await H.RestartAsync(whileStopped: () =>
        {
            RewriteWithoutMigSpec();
            File.Delete(SpecPath);
        });

        Assert.Equal(ClaimCheckpointState.Prepared, H.Journal.Get(TestClaims.Uid(1))!.State);
        Assert.False(File.Exists(SpecPath));
        Assert.Equal(1, Restored("unrestorable"));
        AssertHeldNotOffered();

        // Its release still scrubs the instance and returns the memory.
        Assert.Null((await H.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)].Error);
        Assert.True(H.Inventory.GetPlacement(X)!.IsOffered);
    }

    [Fact]
    public async Task A_MIG_backend_that_cannot_be_read_fails_the_retried_Prepare_instead_of_answering_without_a_spec()
    {
        var spec = await PreparedAsync(MigMode.Static);
        File.Delete(SpecPath);
        _mig.FailInstances = true;

        var failed = (await H.Pipeline.PrepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)];

        Assert.Contains("could not be read", failed.Error, StringComparison.Ordinal);
        Assert.Equal(1, Restored("failed"));
        Assert.False(File.Exists(SpecPath));
        AssertHeldNotOffered();

        // The backend answers again: the kubelet's next retry gets the spec back.
        _mig.FailInstances = false;
        Assert.Null((await H.Pipeline.PrepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)].Error);
        Assert.Equal(spec, await File.ReadAllBytesAsync(SpecPath));
    }

    /// <param name="overlappedWrites">Checkpoint writes of the failed Prepare: the Prepared commit beside the spec write and the
    /// rollback's (dynamic: after the intent and the instance's ids). Written one after the other, the spec's failure
    /// would stop the Prepare before its commit: one write fewer.</param>
    [Theory]
    [InlineData(MigMode.Static, 2)]
    [InlineData(MigMode.Dynamic, 4)]
    public async Task A_MIG_claims_spec_and_Prepared_commit_are_written_at_once_and_a_failed_spec_write_leaves_nothing_prepared(MigMode mode, int overlappedWrites)
    {
        await PreparedAsync(mode);
        Assert.Null((await H.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)].Error);

        // The spec cannot be written (the CDI root is a file); the checkpoint commit beside it can.
        Directory.Delete(H.CdiRoot, recursive: true);
        await File.WriteAllTextAsync(H.CdiRoot, "not a directory");
        var writes = H.CheckpointWrites;

        var result = (await H.Pipeline.PrepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)];

        Assert.NotNull(result.Error);
        Assert.Equal(overlappedWrites, H.CheckpointWrites - writes);
        var onDisk = await H.Journal.File.ReadAsync(CancellationToken.None);
        Assert.False(onDisk!.Claims.ContainsKey(TestClaims.Uid(1)), "the claim stayed Prepared on disk after its prepare failed");
        Assert.Null(H.Journal.Get(TestClaims.Uid(1)));
    }

    /// <summary>The simulated backend, whose instance list can be made to fail (a mig-manager that does not answer).</summary>
    private sealed class FailingMigBackend(IMigBackend inner) : IMigBackend
    {
        public bool FailInstances { get; set; }

        public Task<MigModeState> GetMigModeAsync(GpuDevice device, CancellationToken cancellationToken) => inner.GetMigModeAsync(device, cancellationToken);

        public Task<IReadOnlyList<MigProfile>> GetProfilesAsync(GpuDevice device, CancellationToken cancellationToken) => inner.GetProfilesAsync(device, cancellationToken);

        public Task<IReadOnlyList<MigInstance>> GetInstancesAsync(GpuDevice device, CancellationToken cancellationToken) =>
            FailInstances ? throw new GpuBackendException("the MIG manager did not answer") : inner.GetInstancesAsync(device, cancellationToken);

        public Task<MigInstance> CreateGpuInstanceAsync(GpuDevice device, int profileId, MigPlacement placement, CancellationToken cancellationToken) =>
            inner.CreateGpuInstanceAsync(device, profileId, placement, cancellationToken);

        public Task<MigInstance> CreateComputeInstanceAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken) =>
            inner.CreateComputeInstanceAsync(device, gpuInstanceId, cancellationToken);

        public Task DestroyComputeInstanceAsync(GpuDevice device, int gpuInstanceId, int computeInstanceId, CancellationToken cancellationToken) =>
            inner.DestroyComputeInstanceAsync(device, gpuInstanceId, computeInstanceId, cancellationToken);

        public Task DestroyGpuInstanceAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken) =>
            inner.DestroyGpuInstanceAsync(device, gpuInstanceId, cancellationToken);

        public Task<IReadOnlyList<GpuProcess>> GetInstanceProcessesAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken) =>
            inner.GetInstanceProcessesAsync(device, gpuInstanceId, cancellationToken);
    }
}
