using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using Wire = SecureDra.Protocol.MigManager.V1;

namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>
/// <see cref="IMigBackend"/> through the MIG manager (<c>--mig-manager-socket</c>): the plugin container holds neither
/// the mig-config capability nor CAP_SYS_ADMIN, so every MIG call, reads included, goes to the one container that does
/// (reads too: listing every instance of a GPU needs the mig-monitor capability). The GPU is named by UUID; the
/// answers are checked before they are believed and carry this side's device name. Failures are those of the local
/// backend, plus <see cref="MigManagerUnavailableException"/> when the manager does not answer.
/// </summary>
public sealed class RemoteMigBackend(MigManagerClient client) : IMigBackend
{
    public async Task<MigModeState> GetMigModeAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        var answer = await client.CallAsync("GetMigMode", (c, o) => c.GetMigModeAsync(Device(device), o), cancellationToken).ConfigureAwait(false);
        return MigManagerWire.FromWire(answer);
    }

    public async Task<IReadOnlyList<MigProfile>> GetProfilesAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        var answer = await client.CallAsync("GetProfiles", (c, o) => c.GetProfilesAsync(Device(device), o), cancellationToken).ConfigureAwait(false);
        return client.Check("GetProfiles", () => MigManagerWire.FromWire(answer));
    }

    public async Task<IReadOnlyList<MigInstance>> GetInstancesAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        var answer = await client.CallAsync("GetInstances", (c, o) => c.GetInstancesAsync(Device(device), o), cancellationToken).ConfigureAwait(false);
        return client.Check("GetInstances", () => MigManagerWire.FromWire(answer, device.Name));
    }

    public async Task<MigInstance> CreateGpuInstanceAsync(GpuDevice device, int profileId, MigPlacement placement, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        var request = new Wire.CreateGpuInstanceRequest { GpuUuid = device.Uuid, ProfileId = profileId, Placement = MigManagerWire.ToWire(placement) };
        var answer = await client.CallAsync("CreateGpuInstance", (c, o) => c.CreateGpuInstanceAsync(request, o), cancellationToken).ConfigureAwait(false);
        return client.Check("CreateGpuInstance", () => MigManagerWire.FromWire(answer, device.Name));
    }

    public async Task<MigInstance> CreateComputeInstanceAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        var answer = await client.CallAsync("CreateComputeInstance", (c, o) => c.CreateComputeInstanceAsync(Instance(device, gpuInstanceId), o), cancellationToken).ConfigureAwait(false);
        return client.Check("CreateComputeInstance", () => MigManagerWire.FromWire(answer, device.Name));
    }

    public async Task DestroyComputeInstanceAsync(GpuDevice device, int gpuInstanceId, int computeInstanceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        var request = new Wire.DestroyComputeInstanceRequest { GpuUuid = device.Uuid, GpuInstanceId = gpuInstanceId, ComputeInstanceId = computeInstanceId };
        await client.CallAsync("DestroyComputeInstance", (c, o) => c.DestroyComputeInstanceAsync(request, o), cancellationToken).ConfigureAwait(false);
    }

    public async Task DestroyGpuInstanceAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        await client.CallAsync("DestroyGpuInstance", (c, o) => c.DestroyGpuInstanceAsync(Instance(device, gpuInstanceId), o), cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<GpuProcess>> GetInstanceProcessesAsync(GpuDevice device, int gpuInstanceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        var answer = await client.CallAsync("GetInstanceProcesses", (c, o) => c.GetInstanceProcessesAsync(Instance(device, gpuInstanceId), o), cancellationToken).ConfigureAwait(false);
        return client.Check("GetInstanceProcesses", () => MigManagerWire.FromWire(answer));
    }

    private static Wire.DeviceRequest Device(GpuDevice device) => new() { GpuUuid = device.Uuid };

    private static Wire.GpuInstanceRequest Instance(GpuDevice device, int gpuInstanceId) => new() { GpuUuid = device.Uuid, GpuInstanceId = gpuInstanceId };
}
