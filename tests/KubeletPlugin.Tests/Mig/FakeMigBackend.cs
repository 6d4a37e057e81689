using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.KubeletPlugin.Tests.Mig;

/// <summary>Profiles of the simulated A100-40GB; instances as the test sets them. Never creates or destroys anything.</summary>
public sealed class FakeMigBackend : IMigBackend
{
    public IReadOnlyList<MigProfile> Profiles { get; } = SimulatedMigProfiles.For(SimulatedMigModel.A100_40GB);

    public List<MigInstance> Instances { get; } = [];

    public Task<MigModeState> GetMigModeAsync(GpuDevice device, CancellationToken cancellationToken) =>
        Task.FromResult(new MigModeState(true, device.MigEnabled, false));

    public Task<IReadOnlyList<MigProfile>> GetProfilesAsync(GpuDevice device, CancellationToken cancellationToken) => Task.FromResult(Profiles);

    public Task<IReadOnlyList<MigInstance>> GetInstancesAsync(GpuDevice device, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<MigInstance>>([.. Instances.Where(i => i.ParentDeviceName == device.Name)]);

    public Task<MigInstance> CreateGpuInstanceAsync(GpuDevice device, int profileId, MigPlacement placement, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<MigInstance> CreateComputeInstanceAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task DestroyComputeInstanceAsync(GpuDevice device, int gpuInstanceId, int computeInstanceId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task DestroyGpuInstanceAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<IReadOnlyList<GpuProcess>> GetInstanceProcessesAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<GpuProcess>>([]);
}
