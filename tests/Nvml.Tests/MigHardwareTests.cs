using SecureDra.Nvml.Backends.Confidential;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Nvidia;
using Xunit.Abstractions;

namespace SecureDra.Nvml.Tests;

/// <summary>
/// The MIG and CC bindings on a real GPU, read-only (a lent machine's MIG settings must not change): MIG mode, and where
/// MIG is on, the profiles and existing instances; the CC state. Run with <c>--filter Category=Gpu</c>; the output names
/// what the GPU reported, for docs/performance.md.
/// </summary>
[Trait("Category", "Gpu")]
public class MigHardwareTests(ITestOutputHelper output)
{
    [Fact]
    public async Task MigModeProfilesAndInstances_ReadOnly()
    {
        await using var backend = new NvidiaGpuBackend(new NvidiaBackendOptions(), TimeProvider.System);
        using var mig = new NvidiaMigBackend();
        foreach (var device in await backend.EnumerateAsync(CancellationToken.None))
        {
            var mode = await mig.GetMigModeAsync(device, CancellationToken.None);
            output.WriteLine($"{device.Name} {device.ProductName}: MIG supported={mode.Supported} current={mode.Current} pending={mode.Pending}");
            Assert.Equal(mode.EnabledOrPending, device.MigEnabled);
            if (!mode.Current)
            {
                continue;
            }

            var profiles = await mig.GetProfilesAsync(device, CancellationToken.None);
            Assert.NotEmpty(profiles);
            foreach (var p in profiles)
            {
                output.WriteLine($"  profile {p.Id} {p.Name} {p.MemoryMiB} MiB slices={p.ComputeSliceCount}/{p.MemorySliceCount} max={p.MaxInstances} placements={string.Join(" ", p.Placements)}");
                Assert.All(p.Placements, pl => Assert.True(pl.IsValid));
            }

            foreach (var i in await mig.GetInstancesAsync(device, CancellationToken.None))
            {
                output.WriteLine($"  instance gi={i.GpuInstanceId} {i.ProfileName} {i.Placement} {i.MemoryBytes} B cis={i.ComputeInstances.Count} uuid={i.Uuid}");
            }
        }
    }

    [Fact]
    public async Task ConfidentialComputeState_Reads()
    {
        using var cc = new NvidiaConfidentialComputeBackend();
        var state = await cc.GetConfidentialComputeStateAsync(CancellationToken.None);
        output.WriteLine($"CC: {state}");
        if (!state.Supported)
        {
            Assert.Equal(ConfidentialComputeState.Unsupported, state);
        }
    }
}
