using Microsoft.Extensions.Logging;
using SecureDra.Api.Config;
using SecureDra.Api.Validation;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Devices.Mig;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Claims;

/// <summary>
/// Reads the claim as the API server has it now and reduces it to this node's part: its allocation results,
/// their configs (validated; a rejection fails the claim and is counted by field) and the GPUs they name.
/// </summary>
internal sealed partial class ClaimAllocationReader(
    IResourceApi api,
    DeviceInventory inventory,
    PipelineContext context,
    OpaqueConfigResolver configs,
    Counter rejections,
    ILogger logger,
    MigInstanceLocator? migInstances,
    MigInstanceLifecycle? migLifecycle)
{
    /// <summary>The opaque config's wrapper field: errors about the parameters as a whole (size, JSON) end here.</summary>
    private const string OpaqueParametersField = "parameters";

    public async Task<ClaimAllocation> ReadAsync(ClaimRef claim, CancellationToken cancellationToken)
    {
        var fetched = await AllocatedClaim.FetchAsync(api, claim, cancellationToken).ConfigureAwait(false);
        var node = context.Plugin.NodeName;
        var results = fetched.ResultsOf(context.Plugin.DriverName, pool: node).ToList();
        if (results.Any(r => r.AdminAccess))
        {
            // Admin access would expose a device that may belong to another tenant, and releasing it would scrub under that tenant.
            throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: adminAccess is not supported by this driver");
        }

        var resolved = configs.Resolve(fetched.Allocation.Config, results);
        if (resolved.Errors.Count > 0)
        {
            foreach (var error in resolved.Errors)
            {
                rejections.Inc(RejectionReason(error));
            }

            LogConfigRejected(logger, claim.Namespace, claim.Name, claim.Uid, string.Join("; ", resolved.Errors));
            throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: invalid opaque config: {string.Join("; ", resolved.Errors)}");
        }

        var gpus = new List<GpuDevice>();
        var migSpecs = new Dictionary<string, CheckpointMigSpec>(StringComparer.Ordinal);
        foreach (var name in results.Select(r => r.Device).Distinct(StringComparer.Ordinal))
        {
            if (inventory.IsPlacement(name))
            {
                var (device, spec) = await MigDeviceAsync(claim, name, cancellationToken).ConfigureAwait(false);
                gpus.Add(device);
                if (spec is not null)
                {
                    migSpecs[name] = spec;
                }

                continue;
            }

            gpus.Add(inventory.Find(name) ?? throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: device {name} does not exist on node {node}"));
        }

        return new ClaimAllocation(node, results, resolved, gpus, migSpecs);
    }

    /// <summary>
    /// A MIG device as its container receives it. Static mode: the instance exists and is used as it is. Dynamic
    /// mode: a stand-in for the placement until <see cref="MigInstanceCreation"/> creates the instance (which records
    /// the instance for the spec itself). Static mode also returns the instance, so the spec can be rebuilt from it.
    /// </summary>
    private async Task<(GpuDevice Device, CheckpointMigSpec? Spec)> MigDeviceAsync(ClaimRef claim, string name, CancellationToken cancellationToken)
    {
        if (context.Options.MigMode == MigMode.Dynamic && migLifecycle is not null && inventory.FindPlacement(name) is { } placement)
        {
            // No instance yet: a stand-in until MigInstanceCreation creates it (after the reservation, never before).
            return (placement.Parent with { Name = name, Uuid = "", MemoryBytes = placement.Profile.MemoryMiB * 1024L * 1024L, MigEnabled = false }, null);
        }

        if (context.Options.MigMode != MigMode.Static || migInstances is null)
        {
            throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: device {name} is a MIG placement; preparing it needs --mig-mode static or dynamic");
        }

        try
        {
            var (parent, instance) = await migInstances.FindAsync(name, cancellationToken).ConfigureAwait(false);
            return (await migInstances.ForContainerAsync(name, parent, instance, cancellationToken).ConfigureAwait(false), MigInstanceLocator.SpecOf(parent, instance));
        }
        catch (Exception ex) when (ex is InvalidOperationException or GpuBackendException)
        {
            throw new ClaimPreparationException($"claim {claim.Namespace}/{claim.Name}: {ex.Message}", ex);
        }
    }

    /// <summary>A bounded metric label: a known field name, else "other" (unknown-field errors name attacker-chosen keys).</summary>
    private static string RejectionReason(ValidationError error)
    {
        var last = error.Path.Split('.').LastOrDefault() ?? "";
        var bracket = last.IndexOf('[', StringComparison.Ordinal);
        if (bracket >= 0)
        {
            last = last[..bracket];
        }

        return last == OpaqueParametersField || GpuConfigSchema.IsField(last) ? last : "other";
    }
}
