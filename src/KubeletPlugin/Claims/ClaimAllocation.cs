using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.State;
using SecureDra.Nvml.Backends;

namespace SecureDra.KubeletPlugin.Claims;

/// <summary>
/// This node's part of one claim's allocation, validated: the results for this driver and pool, the
/// GpuConfig that applies to each, and the GPUs they name (each once). It knows how the claim is
/// recorded in the checkpoint and what the kubelet is answered.
/// </summary>
/// <param name="MigSpecs">Static MIG: the instance each MIG device's spec is built from, recorded with the claim.</param>
internal sealed record ClaimAllocation(string Node, IReadOnlyList<AllocationResult> Results, ResolvedConfigs Configs, IReadOnlyList<GpuDevice> Gpus, IReadOnlyDictionary<string, CheckpointMigSpec> MigSpecs)
{
    public IReadOnlyList<string> DeviceNames { get; } = [.. Gpus.Select(g => g.Name)];

    /// <summary>The checkpoint entry of a prepare that has begun: the devices, each with the reset policy its last config names.</summary>
    public CheckpointClaim StartedEntry(ClaimRef claim) => new()
    {
        Namespace = claim.Namespace,
        Name = claim.Name,
        State = ClaimCheckpointState.PrepareStarted,
        Devices = [.. Gpus.Select(g => new CheckpointDevice
        {
            Name = g.Name,
            Uuid = g.Uuid,
            MigSpec = MigSpecs.GetValueOrDefault(g.Name)?.Clone(),
            ResetPolicy = Results.Select((r, i) => (r, i)).Where(p => p.r.Device == g.Name).Select(p => Configs.PerResult[p.i]?.ResetPolicy).LastOrDefault(p => p is not null),
        })],
    };

    /// <summary>The kubelet's answer: one entry per device, with the requests it serves and its CDI device ID.</summary>
    public List<CheckpointPreparedDevice> Answer(string claimUid, CdiSpecWriter cdi) =>
    [
        .. Results
            .GroupBy(r => r.Device, StringComparer.Ordinal)
            .Select(g => new CheckpointPreparedDevice
            {
                RequestNames = [.. g.Select(r => RequestNames.Base(r.Request)).Distinct(StringComparer.Ordinal)],
                PoolName = Node,
                DeviceName = g.Key,
                CdiDeviceIds = [cdi.DeviceId(claimUid, g.Key)],
            }),
    ];
}
