using System.Collections.Frozen;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// The MIG capability device minors the NVIDIA driver lists in <c>/proc/driver/nvidia-caps/mig-minors</c>
/// (<see cref="MigCapabilityMinorsParser"/>): <c>config</c> (the mig-config capability), <c>monitor</c>, and one
/// <c>access</c> capability per GPU instance and per compute instance, keyed by the parent's device minor. A
/// container may use a MIG instance only with the nodes <c>/dev/nvidia-caps/nvidia-cap&lt;minor&gt;</c> of its GPU
/// instance and its compute instance (docs/mig.md, "CDI").
/// </summary>
public sealed class MigCapabilityMinors(int? config, int? monitor, IReadOnlyDictionary<(int Gpu, int Gi), int> gpuInstances, IReadOnlyDictionary<(int Gpu, int Gi, int Ci), int> computeInstances)
{
    /// <summary>Where the capability nodes live; the minor is appended to <c>nvidia-cap</c>.</summary>
    public const string CapabilityNodeDirectory = "/dev/nvidia-caps";

    private readonly FrozenDictionary<(int Gpu, int Gi), int> _gpuInstances = gpuInstances.ToFrozenDictionary();
    private readonly FrozenDictionary<(int Gpu, int Gi, int Ci), int> _computeInstances = computeInstances.ToFrozenDictionary();

    public int? Config { get; } = config;

    public int? Monitor { get; } = monitor;

    public int Count => _gpuInstances.Count + _computeInstances.Count + (Config is null ? 0 : 1) + (Monitor is null ? 0 : 1);

    /// <summary>The minor of <c>gpu&lt;gpuMinor&gt;/gi&lt;gi&gt;/access</c>; null when the driver lists none.</summary>
    public int? GpuInstance(int gpuMinor, int gi) => _gpuInstances.TryGetValue((gpuMinor, gi), out var m) ? m : null;

    /// <summary>The minor of <c>gpu&lt;gpuMinor&gt;/gi&lt;gi&gt;/ci&lt;ci&gt;/access</c>; null when the driver lists none.</summary>
    public int? ComputeInstance(int gpuMinor, int gi, int ci) => _computeInstances.TryGetValue((gpuMinor, gi, ci), out var m) ? m : null;

    /// <summary>The two capability nodes a container needs to use one MIG instance; throws when the driver lists either not.</summary>
    public IReadOnlyList<string> AccessNodes(int gpuMinor, int gi, int ci)
    {
        var giMinor = GpuInstance(gpuMinor, gi)
            ?? throw new InvalidOperationException($"the MIG capability list has no entry gpu{gpuMinor}/gi{gi}/access");
        var ciMinor = ComputeInstance(gpuMinor, gi, ci)
            ?? throw new InvalidOperationException($"the MIG capability list has no entry gpu{gpuMinor}/gi{gi}/ci{ci}/access");
        return [Node(giMinor), Node(ciMinor)];
    }

    public static string Node(int minor) => $"{CapabilityNodeDirectory}/nvidia-cap{minor}";
}
