using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// Start-up, before the checkpoint is applied: tells the inventory which GPUs in MIG mode are
/// published as MIG devices and with which placements. Dynamic: every placement of every profile
/// the GPU offers. Static: exactly the instances that exist (with a compute instance, hence a MIG
/// UUID); they are never created or destroyed here. A GPU whose MIG data cannot be read stays a
/// plain device, withdrawn while MIG mode is on.
/// </summary>
public sealed partial class MigPartitionSetup(
    PipelineContext context,
    DeviceInventory inventory,
    MigSlicePublication publication,
    ILogger<MigPartitionSetup> logger,
    IMigBackend? mig = null,
    ConfidentialComputeMonitor? confidential = null)
{
    public async Task ConfigureAsync(IReadOnlyList<GpuDevice> devices, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(devices);
        var mode = context.Options.MigMode;
        if (mode == MigMode.Off)
        {
            return;
        }

        foreach (var gpu in devices.Where(d => d.MigEnabled))
        {
            if (confidential is { CcEnabled: true })
            {
                // Hopper CC is whole-GPU passthrough; MIG under CC is not something this driver offers.
                LogNotPartitioned(logger, gpu.Name, "confidential computing is on: MIG is refused");
                continue;
            }

            if (mig is null)
            {
                LogNotPartitioned(logger, gpu.Name, "no MIG backend is registered");
                continue;
            }

            try
            {
                if (mode == MigMode.Dynamic)
                {
                    var all = await mig.GetProfilesAsync(gpu, cancellationToken).ConfigureAwait(false);
                    inventory.ConfigurePartitions(gpu.Name, all);
                    LogPartitioned(logger, gpu.Name, "dynamic", all.Sum(p => p.Placements.Count));
                    continue;
                }

                var instances = (await mig.GetInstancesAsync(gpu, cancellationToken).ConfigureAwait(false)).Where(i => i.Uuid is not null).ToList();
                var known = await mig.GetProfilesAsync(gpu, cancellationToken).ConfigureAwait(false);
                var profiles = instances
                    .GroupBy(i => i.ProfileId)
                    .Select(g => (known.FirstOrDefault(p => p.Id == g.Key) ?? throw new MigException(MigErrorCode.InvalidArgument, $"instance profile {g.Key} is not one the GPU reports"))
                        with { Placements = [.. g.Select(i => i.Placement).OrderBy(p => p.Start)] })
                    .ToList();
                inventory.ConfigurePartitions(gpu.Name, profiles);
                foreach (var instance in instances)
                {
                    var profile = profiles.First(p => p.Id == instance.ProfileId);
                    publication.SetInstanceUuid(MigDeviceNames.Placement(gpu.Minor, profile, instance.Placement), instance.Uuid!);
                }

                LogPartitioned(logger, gpu.Name, "static", instances.Count);
            }
            catch (Exception ex) when (ex is GpuBackendException or ArgumentException or InvalidOperationException)
            {
                LogNotPartitioned(logger, gpu.Name, ex.Message);
            }
        }
    }
}
