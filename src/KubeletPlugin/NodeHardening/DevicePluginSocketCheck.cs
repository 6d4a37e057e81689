namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>The NVIDIA device plugin's kubelet socket: while it exists, that plugin hands the same GPUs out as nvidia.com/gpu.</summary>
public sealed class DevicePluginSocketCheck(NodeHardeningOptions options) : INodeCheck
{
    public string Name => "device-plugin";

    public IReadOnlyList<NodeFinding> Run() =>
        File.Exists(options.DevicePluginSocketPath)
            ?
            [
                new NodeFinding("nvidia-device-plugin-running", "B4", NodeFindingState.Open, options.DevicePluginSocketPath,
                    "the NVIDIA device plugin is registered with the kubelet: it hands the same GPUs out as nvidia.com/gpu, without SecureDra's scrub",
                    "GPU Operator: devicePlugin.enabled=false on nodes where SecureDra runs"),
            ]
            : [];
}
