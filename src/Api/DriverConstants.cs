namespace SecureDra.Api;

/// <summary>Names shared by every SecureDra component. Changing one is a wire or API break.</summary>
public static class DriverConstants
{
    /// <summary>DeviceClasses select the driver by this name; it replaces NVIDIA's driver in place.</summary>
    public const string DefaultDriverName = "gpu.nvidia.com";

    /// <summary>Opaque configuration group/version, in <c>apiVersion</c> of a <c>GpuConfig</c>.</summary>
    public const string ConfigApiVersion = "resource.securedra.io/v1alpha1";

    public const string GpuConfigKind = "GpuConfig";

    /// <summary>The only reset policy a tenant claim may ask for.</summary>
    public const string ZeroVramOnRelease = "ZeroVRAMOnRelease";

    /// <summary>The API server's own cap on opaque parameters (OpaqueParametersMaxLength).</summary>
    public const int OpaqueParametersMaxBytes = 10 * 1024;

    /// <summary>Kubelet plugin type string for DRA plugins in PluginInfo.type.</summary>
    public const string DraPluginType = "DRAPlugin";
}
