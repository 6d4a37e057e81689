using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// Finds the MIG instance behind a placement device as the driver has it now (static mode: the instance an
/// administrator created there), and what a container needs to use it: the parent's device nodes plus the GPU- and
/// compute-instance capability nodes from the driver's mig-minors list. Always asks the backend: an instance can be
/// destroyed and re-created (with a new UUID) behind the plugin's back, and a stale answer would hand out or scrub the
/// wrong memory.
/// </summary>
public sealed class MigInstanceLocator(PipelineContext context, DeviceInventory inventory, IMigBackend? mig = null)
{
    /// <summary>The instance exactly at the device's placement with the device's profile and a compute instance; throws when there is none.</summary>
    public async Task<(GpuDevice Parent, MigInstance Instance)> FindAsync(string deviceName, CancellationToken cancellationToken)
    {
        var (parent, profile, placement, instance) = await AtPlacementAsync(deviceName, cancellationToken).ConfigureAwait(false);
        if (instance is null)
        {
            throw new InvalidOperationException($"device {deviceName}: no MIG instance of profile {profile.Name} exists at placement {placement.Start}+{placement.Size} of GPU {parent.Name}");
        }

        if (instance.Uuid is null || instance.ComputeInstances.Count == 0)
        {
            throw new InvalidOperationException($"device {deviceName}: MIG instance {instance.GpuInstanceId} of GPU {parent.Name} has no compute instance");
        }

        return (parent, instance);
    }

    /// <summary>
    /// The instance at the device's placement with the device's profile as the backend lists it now, or null: the list
    /// was read and holds none. Throws <see cref="GpuBackendException"/> when the list cannot be read, and
    /// <see cref="InvalidOperationException"/> for a device that is not a placement or no MIG backend.
    /// </summary>
    public async Task<(GpuDevice Parent, MigProfile Profile, MigPlacement Placement, MigInstance? Instance)> AtPlacementAsync(string deviceName, CancellationToken cancellationToken)
    {
        var (parent, profile, placement) = inventory.FindPlacement(deviceName)
            ?? throw new InvalidOperationException($"device {deviceName} is not a MIG device of this node");
        if (mig is null)
        {
            throw new InvalidOperationException($"device {deviceName}: no MIG backend is registered");
        }

        var instances = await mig.GetInstancesAsync(parent, cancellationToken).ConfigureAwait(false);
        return (parent, profile, placement, instances.SingleOrDefault(i => i.ProfileId == profile.Id && i.Placement == placement));
    }

    /// <summary>
    /// What the checkpoint records of the instance a claim's CDI spec is built from, so a lost spec can be rebuilt from
    /// the same instance and from no other (<c>CdiSpecRestore</c>). The MIG UUID is recorded as the device's UUID.
    /// </summary>
    public static CheckpointMigSpec SpecOf(GpuDevice parent, MigInstance instance)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(instance);
        return new CheckpointMigSpec { ParentUuid = parent.Uuid, GpuInstanceId = instance.GpuInstanceId, ComputeInstanceId = instance.ComputeInstances[0].Id };
    }

    /// <summary>
    /// The device as a container receives it: named after the placement, the MIG UUID as its UUID, the instance's
    /// memory, and the parent's nodes plus the instance's two capability nodes. One compute instance spans the GPU
    /// instance (one tenant per instance), so the first is the one.
    /// </summary>
    public async Task<GpuDevice> ForContainerAsync(string deviceName, CancellationToken cancellationToken)
    {
        var (parent, instance) = await FindAsync(deviceName, cancellationToken).ConfigureAwait(false);
        return await ForContainerAsync(deviceName, parent, instance, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The device as a container receives it, for an instance the caller already has (dynamic MIG: the one it just created).</summary>
    public async Task<GpuDevice> ForContainerAsync(string deviceName, GpuDevice parent, MigInstance instance, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(instance);
        if (instance.Uuid is null || instance.ComputeInstances.Count != 1)
        {
            throw new InvalidOperationException($"device {deviceName}: MIG instance {instance.GpuInstanceId} has {instance.ComputeInstances.Count} compute instances; one tenant per instance needs exactly one");
        }

        MigCapabilityMinors minors;
        try
        {
            minors = await MigCapabilityMinorsParser.ReadAsync(context.Options.MigMinorsPath, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            throw new InvalidOperationException($"device {deviceName}: the MIG capability list could not be read: {ex.Message}", ex);
        }

        var caps = minors.AccessNodes(parent.Minor, instance.GpuInstanceId, instance.ComputeInstances[0].Id);
        return parent with
        {
            Name = deviceName,
            Uuid = instance.Uuid!,
            MemoryBytes = instance.MemoryBytes,
            DeviceNodePaths = [.. parent.DeviceNodePaths, .. caps],
            MigEnabled = false,
        };
    }
}
