using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;

namespace SecureDra.KubeletPlugin.Claims;

/// <summary>
/// Dynamic MIG at Prepare: creates the instance of every placement a claim was allocated, in this order per
/// placement: the intent durable in the checkpoint, the GPU and compute instance, their ids and MIG UUID durable.
/// </summary>
internal sealed class MigInstanceCreation(
    PipelineContext context,
    DeviceInventory inventory,
    ClaimJournal journal,
    ICrashInjector crash,
    MigInstanceLocator? migInstances,
    MigInstanceLifecycle? migLifecycle)
{
    /// <summary>
    /// Returns the devices as containers receive them (the created instance's UUID and capability nodes in place of
    /// the placement's stand-in). <paramref name="created"/> collects the placements that may hold an instance from
    /// the moment the create is attempted, so a failure anywhere after cleans them (scrub, destroy) instead of releasing.
    /// </summary>
    public async Task<IReadOnlyList<GpuDevice>> CreateAsync(ClaimRef claim, CheckpointClaim entry, IReadOnlyList<GpuDevice> gpus, List<string> created, CancellationToken cancellationToken)
    {
        if (context.Options.MigMode != MigMode.Dynamic || !gpus.Any(g => inventory.IsPlacement(g.Name)))
        {
            return gpus;
        }

        var lifecycle = migLifecycle ?? throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: no MIG instance lifecycle is registered");
        var locator = migInstances ?? throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: no MIG instance locator is registered");
        var result = new List<GpuDevice>(gpus.Count);
        foreach (var gpu in gpus)
        {
            if (inventory.FindPlacement(gpu.Name) is not { } placement)
            {
                result.Add(gpu);
                continue;
            }

            var device = entry.Devices.First(d => d.Name == gpu.Name);
            device.MigInstance = new CheckpointMigInstance { Parent = placement.Parent.Name, ProfileId = placement.Profile.Id, Start = placement.Placement.Start, Size = placement.Placement.Size };
            journal.Put(claim.Uid, entry);
            await journal.CommitAsync(cancellationToken).ConfigureAwait(false);
            crash.At(CrashPoints.PrepareAfterMigIntent);

            (GpuDevice Parent, Nvml.Backends.Mig.MigInstance Instance) made;
            try
            {
                made = await lifecycle.CreateAsync(claim.Uid, gpu.Name, cancellationToken).ConfigureAwait(false);
            }
            catch (MigCreateException ex)
            {
                if (ex.LeftInstance)
                {
                    created.Add(gpu.Name);
                }

                throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: {ex.Message}", ex);
            }

            created.Add(gpu.Name);
            crash.At(CrashPoints.PrepareAfterMigCreate);

            device.Uuid = made.Instance.Uuid!;
            device.MigInstance.GpuInstanceId = made.Instance.GpuInstanceId;
            device.MigInstance.ComputeInstanceId = made.Instance.ComputeInstances[0].Id;
            device.MigInstance.Uuid = made.Instance.Uuid;
            device.MigSpec = MigInstanceLocator.SpecOf(made.Parent, made.Instance); // what a lost CDI spec is rebuilt from (CdiSpecRestore)
            journal.Put(claim.Uid, entry);
            await journal.CommitAsync(cancellationToken).ConfigureAwait(false);
            crash.At(CrashPoints.PrepareAfterMigRecorded);

            try
            {
                result.Add(await locator.ForContainerAsync(gpu.Name, made.Parent, made.Instance, cancellationToken).ConfigureAwait(false));
            }
            catch (InvalidOperationException ex)
            {
                throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: {ex.Message}", ex);
            }
        }

        return result;
    }
}
