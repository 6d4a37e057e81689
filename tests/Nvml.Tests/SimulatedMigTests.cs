using System.Text.RegularExpressions;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Confidential;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.Nvml.Tests;

/// <summary>Simulated MIG: profiles, NVML's placement and destroy rules, persistence, slices on the VRAM file, faults, CC state.</summary>
public partial class SimulatedMigTests
{
    private const long Memory = 8L * 1024 * 1024;

    [Fact]
    public async Task Profiles_PerModel_HaveNvmlIdsNamesAndPlacements()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Memory);
        var mig = Mig(node);
        var gpu = await node.DeviceAsync(0);

        var h100 = await mig.GetProfilesAsync(gpu, CancellationToken.None);
        Assert.Equal([19, 20, 15, 14, 9, 5, 0], h100.Select(p => p.Id));
        Assert.Equal(["1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"], h100.Select(p => p.Name));
        Assert.Equal([10240L, 10240, 20480, 20480, 40960, 40960, 81920], h100.Select(p => p.MemoryMiB));
        Assert.Equal([0, 1, 2, 3, 4, 5, 6], h100.Single(p => p.Id == 19).Placements.Select(p => p.Start));
        Assert.All(h100.Single(p => p.Id == 19).Placements, p => Assert.Equal(1, p.Size));
        Assert.Equal([new MigPlacement(0, 2), new(2, 2), new(4, 2), new(6, 2)], h100.Single(p => p.Id == 15).Placements);
        Assert.Equal([new MigPlacement(0, 2), new(2, 2), new(4, 2)], h100.Single(p => p.Id == 14).Placements);
        Assert.Equal([new MigPlacement(0, 4), new(4, 4)], h100.Single(p => p.Id == 9).Placements);
        Assert.Equal([new MigPlacement(0, 4)], h100.Single(p => p.Id == 5).Placements);
        Assert.Equal([new MigPlacement(0, 8)], h100.Single(p => p.Id == 0).Placements);

        node.Backend.SetFaults("gpu-0", new SimulatedFaults { MigModel = "A100-40GB" });
        var a100 = await mig.GetProfilesAsync(gpu, CancellationToken.None);
        Assert.Equal(["1g.5gb", "1g.5gb+me", "1g.10gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"], a100.Select(p => p.Name));
        Assert.Equal([4864L, 4864, 9856, 9856, 19968, 19968, 40192], a100.Select(p => p.MemoryMiB));
        Assert.Equal(98, a100.Single(p => p.Id == 0).Capacities.Multiprocessors);

        node.Backend.SetFaults("gpu-0", new SimulatedFaults { MigModel = "A100-80GB" });
        Assert.Equal(["1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"], (await mig.GetProfilesAsync(gpu, CancellationToken.None)).Select(p => p.Name));
        Assert.Equal(80384, (await mig.GetProfilesAsync(gpu, CancellationToken.None)).Single(p => p.Id == 0).MemoryMiB);

        File.WriteAllText(SimulatedFaultFile.PathFor(node.Directory, "gpu-0"), """{ "migModel": "B200" }""");
        var e = await Assert.ThrowsAsync<GpuBackendException>(() => mig.GetProfilesAsync(gpu, CancellationToken.None));
        Assert.Contains("migModel must be one of H100-80GB, A100-40GB, A100-80GB, got 'B200'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigModeOff_CreateIsNotSupported_ModeReportsCurrentAndPending()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Memory);
        var mig = Mig(node);
        var gpu = await node.DeviceAsync(0);
        Assert.Equal(new MigModeState(true, false, false), await mig.GetMigModeAsync(gpu, CancellationToken.None));
        var e = await Assert.ThrowsAsync<MigException>(() => mig.CreateGpuInstanceAsync(gpu, 19, new MigPlacement(0, 1), CancellationToken.None));
        Assert.Equal(MigErrorCode.NotSupported, e.Code);

        node.Backend.SetFaults("gpu-0", new SimulatedFaults { MigPending = true });
        Assert.Equal(new MigModeState(true, false, true), await mig.GetMigModeAsync(gpu, CancellationToken.None));
        e = await Assert.ThrowsAsync<MigException>(() => mig.CreateGpuInstanceAsync(gpu, 19, new MigPlacement(0, 1), CancellationToken.None));
        Assert.Equal(MigErrorCode.NotSupported, e.Code);
    }

    [Fact]
    public async Task Create_FollowsNvmlPlacementRules()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Memory);
        var (mig, gpu) = await MigOn(node);

        var a = await mig.CreateGpuInstanceAsync(gpu, SimulatedMigProfiles.Profile3g, new MigPlacement(0, 4), CancellationToken.None);
        Assert.Equal(new MigPlacement(0, 4), a.Placement);
        Assert.Equal("3g.40gb", a.ProfileName);
        Assert.Null(a.Uuid);
        Assert.Empty(a.ComputeInstances);
        Assert.Equal(Memory / 2, a.MemoryBytes);

        // Overlap → INSUFFICIENT_RESOURCES, naming the instance in the way.
        var e = await Assert.ThrowsAsync<MigException>(() => mig.CreateGpuInstanceAsync(gpu, SimulatedMigProfiles.Profile1g, new MigPlacement(3, 1), CancellationToken.None));
        Assert.Equal(MigErrorCode.InsufficientResources, e.Code);
        Assert.Contains($"overlaps GPU instance {a.GpuInstanceId}", e.Message, StringComparison.Ordinal);

        // A start the profile does not allow → INVALID_ARGUMENT; unknown profile too.
        e = await Assert.ThrowsAsync<MigException>(() => mig.CreateGpuInstanceAsync(gpu, SimulatedMigProfiles.Profile2g, new MigPlacement(5, 2), CancellationToken.None));
        Assert.Equal(MigErrorCode.InvalidArgument, e.Code);
        e = await Assert.ThrowsAsync<MigException>(() => mig.CreateGpuInstanceAsync(gpu, 1, new MigPlacement(4, 1), CancellationToken.None));
        Assert.Equal(MigErrorCode.InvalidArgument, e.Code);
        e = await Assert.ThrowsAsync<MigException>(() => mig.CreateGpuInstanceAsync(gpu, SimulatedMigProfiles.Profile1g, new MigPlacement(7, 1), CancellationToken.None));
        Assert.Equal(MigErrorCode.InvalidArgument, e.Code);

        // The +me profile exists once per GPU.
        var me = await mig.CreateGpuInstanceAsync(gpu, SimulatedMigProfiles.Profile1gMe, new MigPlacement(4, 1), CancellationToken.None);
        e = await Assert.ThrowsAsync<MigException>(() => mig.CreateGpuInstanceAsync(gpu, SimulatedMigProfiles.Profile1gMe, new MigPlacement(5, 1), CancellationToken.None));
        Assert.Equal(MigErrorCode.InsufficientResources, e.Code);

        var b = await mig.CreateGpuInstanceAsync(gpu, SimulatedMigProfiles.Profile1g, new MigPlacement(6, 1), CancellationToken.None);
        Assert.Equal(3, new[] { a.GpuInstanceId, me.GpuInstanceId, b.GpuInstanceId }.Distinct().Count());
        Assert.Equal([0, 4, 6], (await mig.GetInstancesAsync(gpu, CancellationToken.None)).Select(i => i.Placement.Start).Order());
    }

    [Fact]
    public async Task ComputeInstance_GivesANewMigUuidEveryTime_AndStatePersistsAcrossBackends()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Memory);
        var (mig, gpu) = await MigOn(node);
        var uuids = new HashSet<string>();
        for (var round = 0; round < 3; round++)
        {
            var gi = await mig.CreateGpuInstanceAsync(gpu, SimulatedMigProfiles.Profile2g, new MigPlacement(2, 2), CancellationToken.None);
            var withCi = await mig.CreateComputeInstanceAsync(gpu, gi.GpuInstanceId, CancellationToken.None);
            Assert.Matches(MigUuid(), withCi.Uuid!);
            Assert.True(uuids.Add(withCi.Uuid!));
            Assert.Equal([new MigComputeInstance(0, SimulatedMigProfiles.FullComputeInstanceProfileId)], withCi.ComputeInstances);

            // Only one full-size compute instance fits.
            var e = await Assert.ThrowsAsync<MigException>(() => mig.CreateComputeInstanceAsync(gpu, gi.GpuInstanceId, CancellationToken.None));
            Assert.Equal(MigErrorCode.InsufficientResources, e.Code);

            // A restarted plugin (a new backend over the same directory) sees exactly what exists.
            var restarted = new SimulatedMigBackend(new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = Memory, VramDirectory = node.Directory, FaultFiles = true });
            Assert.Equal([Key(withCi)], (await restarted.GetInstancesAsync(gpu, CancellationToken.None)).Select(Key));
            Assert.Equal([(gpu.Name, Key(withCi))], restarted.Visible([withCi.Uuid!]).Select(v => (v.Parent.Name, Key(v.Instance))));

            await restarted.DestroyComputeInstanceAsync(gpu, gi.GpuInstanceId, 0, CancellationToken.None);
            await restarted.DestroyGpuInstanceAsync(gpu, gi.GpuInstanceId, CancellationToken.None);
            Assert.Empty(await mig.GetInstancesAsync(gpu, CancellationToken.None));
            Assert.Empty(mig.Visible([withCi.Uuid!]));
        }
    }

    [Fact]
    public async Task Destroy_IsInUseWhileComputeInstancesOrProcessesRemain_NotFoundAfterwards()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Memory);
        var (mig, gpu) = await MigOn(node);
        var gi = await mig.CreateGpuInstanceAsync(gpu, SimulatedMigProfiles.Profile1g, new MigPlacement(1, 1), CancellationToken.None);
        await mig.CreateComputeInstanceAsync(gpu, gi.GpuInstanceId, CancellationToken.None);

        var e = await Assert.ThrowsAsync<MigException>(() => mig.DestroyGpuInstanceAsync(gpu, gi.GpuInstanceId, CancellationToken.None));
        Assert.Equal(MigErrorCode.InUse, e.Code);
        Assert.Contains("compute instance", e.Message, StringComparison.Ordinal);

        // A process on this instance blocks destroying its compute instance; one on another instance does not count.
        node.Backend.SetFaults("gpu-0", new SimulatedFaults { MigEnabled = true, RunningProcesses = [new SimulatedProcess(77, 4096) { GpuInstanceId = gi.GpuInstanceId }, new SimulatedProcess(78, 1) { GpuInstanceId = 99 }] });
        Assert.Equal([new GpuProcess(77, 4096)], await mig.GetInstanceProcessesAsync(gpu, gi.GpuInstanceId, CancellationToken.None));
        e = await Assert.ThrowsAsync<MigException>(() => mig.DestroyComputeInstanceAsync(gpu, gi.GpuInstanceId, 0, CancellationToken.None));
        Assert.Equal(MigErrorCode.InUse, e.Code);
        Assert.Contains("1 process(es)", e.Message, StringComparison.Ordinal);

        // The injected fault answers IN_USE with no process listed.
        node.Backend.SetFaults("gpu-0", new SimulatedFaults { MigEnabled = true, MigDestroyInUse = true });
        e = await Assert.ThrowsAsync<MigException>(() => mig.DestroyComputeInstanceAsync(gpu, gi.GpuInstanceId, 0, CancellationToken.None));
        Assert.Equal(MigErrorCode.InUse, e.Code);

        node.Backend.SetFaults("gpu-0", new SimulatedFaults { MigEnabled = true });
        await mig.DestroyComputeInstanceAsync(gpu, gi.GpuInstanceId, 0, CancellationToken.None);
        e = await Assert.ThrowsAsync<MigException>(() => mig.DestroyComputeInstanceAsync(gpu, gi.GpuInstanceId, 0, CancellationToken.None));
        Assert.Equal(MigErrorCode.NotFound, e.Code);
        await mig.DestroyGpuInstanceAsync(gpu, gi.GpuInstanceId, CancellationToken.None);
        e = await Assert.ThrowsAsync<MigException>(() => mig.DestroyGpuInstanceAsync(gpu, gi.GpuInstanceId, CancellationToken.None));
        Assert.Equal(MigErrorCode.NotFound, e.Code);
    }

    [Fact]
    public async Task CreateFault_FailsWithoutCreatingAnything()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Memory);
        var (mig, gpu) = await MigOn(node);
        node.Backend.SetFaults("gpu-0", new SimulatedFaults { MigEnabled = true, MigFailCreate = true });
        var e = await Assert.ThrowsAsync<MigException>(() => mig.CreateGpuInstanceAsync(gpu, SimulatedMigProfiles.Profile7g, new MigPlacement(0, 8), CancellationToken.None));
        Assert.Equal(MigErrorCode.Other, e.Code);
        Assert.Contains("migFailCreate", e.Message, StringComparison.Ordinal);
        Assert.Empty(await mig.GetInstancesAsync(gpu, CancellationToken.None));
    }

    [Fact]
    public async Task Destroy_LeavesTheBytes_UnlessTheDriverZeroesOnDestroy()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Memory);
        var (mig, gpu) = await MigOn(node);
        var path = node.Backend.VramPath("gpu-0");
        var slice = Memory / 8;

        // Off by default: the tenant's bytes survive destroy and re-create (nothing NVIDIA documents promises otherwise).
        var gi = await mig.CreateGpuInstanceAsync(gpu, SimulatedMigProfiles.Profile1g, new MigPlacement(3, 1), CancellationToken.None);
        WriteBytes(path, 3 * slice + 100, 0x5A, 64);
        await mig.DestroyGpuInstanceAsync(gpu, gi.GpuInstanceId, CancellationToken.None);
        Assert.Equal(64, await SimulatedVramFile.CountNonZeroBytesAsync(path, CancellationToken.None));

        // With the switch on, destroy zeroes exactly the instance's slice; the neighbour's canary survives.
        node.Backend.SetFaults("gpu-0", new SimulatedFaults { MigEnabled = true, MigDriverZeroesOnDestroy = true });
        WriteBytes(path, 4 * slice, 0x77, 16);
        gi = await mig.CreateGpuInstanceAsync(gpu, SimulatedMigProfiles.Profile1g, new MigPlacement(3, 1), CancellationToken.None);
        await mig.DestroyGpuInstanceAsync(gpu, gi.GpuInstanceId, CancellationToken.None);
        Assert.Equal(16, await SimulatedVramFile.CountNonZeroBytesAsync(path, CancellationToken.None));
        Assert.Equal(0x77, ReadByte(path, 4 * slice));
    }

    [Fact]
    public async Task InstanceSession_TouchesExactlyItsSlices_AndAStuckSliceFailsVerification()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Memory);
        var (mig, gpu) = await MigOn(node);
        var path = node.Backend.VramPath("gpu-0");
        var slice = Memory / 8;
        var gi = await mig.CreateGpuInstanceAsync(gpu, SimulatedMigProfiles.Profile2g, new MigPlacement(2, 2), CancellationToken.None);
        gi = await mig.CreateComputeInstanceAsync(gpu, gi.GpuInstanceId, CancellationToken.None);
        WriteBytes(path, 0, 0x11, (int)(Memory / 1));

        await using (var session = mig.OpenInstanceMemorySession(gpu, gi))
        {
            Assert.Equal((2 * slice, 2 * slice), session.GetMemoryInfo());
            using var all = session.TryAllocate(2 * slice)!;
            Assert.Null(session.TryAllocate(4096));
            session.Zero(all);
            Assert.True(session.VerifyZero(all));
        }

        Assert.Equal(Memory - (2 * slice), await SimulatedVramFile.CountNonZeroBytesAsync(path, CancellationToken.None));
        Assert.Equal(0x11, ReadByte(path, (2 * slice) - 1));
        Assert.Equal(0, ReadByte(path, 2 * slice));
        Assert.Equal(0, ReadByte(path, (4 * slice) - 1));
        Assert.Equal(0x11, ReadByte(path, 4 * slice));

        // A stuck cell in slice 3 fails this instance's verification; an instance elsewhere is unaffected.
        node.Backend.SetFaults("gpu-0", new SimulatedFaults { MigEnabled = true, MigFailVerifySlice = 3 });
        await using (var session = mig.OpenInstanceMemorySession(gpu, gi))
        {
            using var all = session.TryAllocate(2 * slice)!;
            session.Zero(all);
            Assert.False(session.VerifyZero(all));
        }

        var other = await mig.CreateGpuInstanceAsync(gpu, SimulatedMigProfiles.Profile1g, new MigPlacement(6, 1), CancellationToken.None);
        await using (var session = mig.OpenInstanceMemorySession(gpu, other))
        {
            using var all = session.TryAllocate(slice)!;
            session.Zero(all);
            Assert.True(session.VerifyZero(all));
        }
    }

    [Fact]
    public async Task StateFile_TamperedOrOversized_IsRejectedNamingTheFile()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Memory);
        var (mig, gpu) = await MigOn(node);
        var path = SimulatedMigStateFile.PathFor(node.Directory, "gpu-0");

        File.WriteAllText(path, """{ "instances": [ { "gpuInstanceId": 1, "profileId": 9, "start": 0, "size": 4 }, { "gpuInstanceId": 2, "profileId": 19, "start": 3, "size": 1 } ] }""");
        var e = await Assert.ThrowsAsync<GpuBackendException>(() => mig.GetInstancesAsync(gpu, CancellationToken.None));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("collide", e.Message, StringComparison.Ordinal);

        File.WriteAllText(path, """{ "instances": [ null ] }""");
        e = await Assert.ThrowsAsync<GpuBackendException>(() => mig.GetInstancesAsync(gpu, CancellationToken.None));
        Assert.Contains("must not contain null", e.Message, StringComparison.Ordinal);

        File.WriteAllText(path, """{ "instances": [], "extra": 1 }""");
        e = await Assert.ThrowsAsync<GpuBackendException>(() => mig.GetInstancesAsync(gpu, CancellationToken.None));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);

        File.WriteAllText(path, """{ "instances": [ { "gpuInstanceId": 1, "profileId": 9, "start": 6, "size": 4 } ] }""");
        e = await Assert.ThrowsAsync<GpuBackendException>(() => mig.GetInstancesAsync(gpu, CancellationToken.None));
        Assert.Contains("invalid", e.Message, StringComparison.Ordinal);

        File.WriteAllText(path, new string(' ', SimulatedMigStateFile.MaxBytes + 1));
        e = await Assert.ThrowsAsync<GpuBackendException>(() => mig.GetInstancesAsync(gpu, CancellationToken.None));
        Assert.Contains($"exceeds the limit of {SimulatedMigStateFile.MaxBytes}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfidentialCompute_FromTheSystemFaultFile()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Memory);
        var options = new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = Memory, VramDirectory = node.Directory, FaultFiles = true };
        var cc = new SimulatedConfidentialComputeBackend(options);
        Assert.Equal(ConfidentialComputeState.Unsupported, await cc.GetConfidentialComputeStateAsync(CancellationToken.None));
        Assert.False(ConfidentialComputeState.Unsupported.NotReady);

        File.WriteAllText(SimulatedSystemFaultFile.PathFor(node.Directory), """
            { "confidentialCompute": { "environment": "production", "ccFeature": true, "devToolsMode": true, "multiGpuMode": "protected-pcie", "gpusReady": false } }
            """);
        var state = await cc.GetConfidentialComputeStateAsync(CancellationToken.None);
        Assert.Equal(new ConfidentialComputeState(true, CcEnvironment.Production, true, true, CcMultiGpuMode.ProtectedPcie, false), state);
        Assert.True(state.NotReady);

        SimulatedSystemFaultFile.Write(node.Directory, new SimulatedSystemFaults { ConfidentialCompute = new SimulatedConfidentialCompute { CcFeature = true, GpusReady = true } });
        state = await cc.GetConfidentialComputeStateAsync(CancellationToken.None);
        Assert.False(state.NotReady);
        Assert.Null(state.MultiGpuMode);

        // Without fault files (the shipped build) the file is not even read: no CC.
        Assert.Equal(ConfidentialComputeState.Unsupported, await new SimulatedConfidentialComputeBackend(options with { FaultFiles = false }).GetConfidentialComputeStateAsync(CancellationToken.None));

        File.WriteAllText(SimulatedSystemFaultFile.PathFor(node.Directory), """{ "confidentialCompute": { "environment": "lab" } }""");
        var e = await Assert.ThrowsAsync<GpuBackendException>(() => cc.GetConfidentialComputeStateAsync(CancellationToken.None));
        Assert.Contains("confidentialCompute.environment", e.Message, StringComparison.Ordinal);
        File.WriteAllText(SimulatedSystemFaultFile.PathFor(node.Directory), """{ "confidentialComputing": {} }""");
        e = await Assert.ThrowsAsync<GpuBackendException>(() => cc.GetConfidentialComputeStateAsync(CancellationToken.None));
        Assert.Contains("confidentialComputing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutFaultFiles_MigModeReadsOffAndNothingIsInjected()
    {
        await using var node = new SimulatedNode(gpus: 1, memoryBytes: Memory);
        var gpu = await node.DeviceAsync(0);
        node.Backend.SetFaults("gpu-0", new SimulatedFaults { MigEnabled = true, MigModel = "A100-40GB", MigFailCreate = true });
        var shipped = new SimulatedMigBackend(new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = Memory, VramDirectory = node.Directory });
        Assert.Equal(new MigModeState(true, false, false), await shipped.GetMigModeAsync(gpu, CancellationToken.None));
        Assert.Equal("7g.80gb", (await shipped.GetProfilesAsync(gpu, CancellationToken.None)).Single(p => p.Id == 0).Name);
        var e = await Assert.ThrowsAsync<MigException>(() => shipped.CreateGpuInstanceAsync(gpu, 0, new MigPlacement(0, 8), CancellationToken.None));
        Assert.Equal(MigErrorCode.NotSupported, e.Code);
    }

    [Fact]
    public void Placement_OverlapAndValidity()
    {
        Assert.True(new MigPlacement(0, 4).Overlaps(new MigPlacement(3, 1)));
        Assert.False(new MigPlacement(0, 4).Overlaps(new MigPlacement(4, 4)));
        Assert.False(new MigPlacement(6, 4).IsValid);
        Assert.False(new MigPlacement(0, 0).IsValid);
        Assert.Equal([2, 3], new MigPlacement(2, 2).Slices);
    }

    internal static string Key(MigInstance i) =>
        $"{i.ParentDeviceName}/{i.GpuInstanceId}/{i.ProfileId}/{i.ProfileName}/{i.Placement}/{i.MemoryBytes}/{string.Join(",", i.ComputeInstances)}/{i.Uuid}";

    internal static SimulatedMigBackend Mig(SimulatedNode node) =>
        new(new SimulatedGpuOptions { DeviceCount = 2, MemoryBytes = Memory, VramDirectory = node.Directory, FaultFiles = true });

    internal static async Task<(SimulatedMigBackend Mig, GpuDevice Gpu)> MigOn(SimulatedNode node)
    {
        var gpu = await node.DeviceAsync(0);
        node.Backend.SetFaults("gpu-0", new SimulatedFaults { MigEnabled = true });
        return (Mig(node), gpu);
    }

    internal static void WriteBytes(string path, long offset, byte value, int count)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        stream.Position = offset;
        var buffer = new byte[count];
        Array.Fill(buffer, value);
        stream.Write(buffer);
    }

    internal static byte ReadByte(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Position = offset;
        return (byte)stream.ReadByte();
    }

    [GeneratedRegex("^MIG-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
    private static partial Regex MigUuid();
}
