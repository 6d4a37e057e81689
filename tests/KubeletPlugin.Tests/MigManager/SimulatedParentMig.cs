using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.KubeletPlugin.Tests.MigManager;

/// <summary>
/// The pipeline harness's fake GPUs carry UUIDs of their own; the MIG manager process runs the simulated backend, whose
/// GPUs have <see cref="SimulatedDeviceCatalog"/>'s UUIDs. These decorators hand the remote side the simulated GPU of
/// the same index (and name), so the manager resolves it as it would the real node's GPU. Nothing else is changed.
/// </summary>
internal static class SimulatedParent
{
    public static GpuDevice Of(GpuDevice device, long memory) => SimulatedDeviceCatalog.Device(device.Index, memory) with { Name = device.Name };
}

internal sealed class SimulatedParentMig(IMigBackend inner, long memory) : IMigBackend
{
    public Task<MigModeState> GetMigModeAsync(GpuDevice device, CancellationToken cancellationToken) => inner.GetMigModeAsync(SimulatedParent.Of(device, memory), cancellationToken);

    public Task<IReadOnlyList<MigProfile>> GetProfilesAsync(GpuDevice device, CancellationToken cancellationToken) => inner.GetProfilesAsync(SimulatedParent.Of(device, memory), cancellationToken);

    public Task<IReadOnlyList<MigInstance>> GetInstancesAsync(GpuDevice device, CancellationToken cancellationToken) => inner.GetInstancesAsync(SimulatedParent.Of(device, memory), cancellationToken);

    public Task<MigInstance> CreateGpuInstanceAsync(GpuDevice device, int profileId, MigPlacement placement, CancellationToken cancellationToken) =>
        inner.CreateGpuInstanceAsync(SimulatedParent.Of(device, memory), profileId, placement, cancellationToken);

    public Task<MigInstance> CreateComputeInstanceAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken) =>
        inner.CreateComputeInstanceAsync(SimulatedParent.Of(device, memory), gpuInstanceId, cancellationToken);

    public Task DestroyComputeInstanceAsync(GpuDevice device, int gpuInstanceId, int computeInstanceId, CancellationToken cancellationToken) =>
        inner.DestroyComputeInstanceAsync(SimulatedParent.Of(device, memory), gpuInstanceId, computeInstanceId, cancellationToken);

    public Task DestroyGpuInstanceAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken) =>
        inner.DestroyGpuInstanceAsync(SimulatedParent.Of(device, memory), gpuInstanceId, cancellationToken);

    public Task<IReadOnlyList<GpuProcess>> GetInstanceProcessesAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken) =>
        inner.GetInstanceProcessesAsync(SimulatedParent.Of(device, memory), gpuInstanceId, cancellationToken);
}

internal sealed class SimulatedParentScrubber(IMigInstanceScrubber inner, long memory) : IMigInstanceScrubber
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public async Task<MigScrubResult> ScrubAsync(GpuDevice parent, MigInstance instance, ScrubTrigger trigger, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        return await inner.ScrubAsync(SimulatedParent.Of(parent, memory), instance, trigger, cancellationToken);
    }
}
