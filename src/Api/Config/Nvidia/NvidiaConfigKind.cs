namespace SecureDra.Api.Config.Nvidia;

/// <summary>The kinds of <c>resource.nvidia.com/v1beta1</c> that can appear as opaque device configuration.</summary>
public enum NvidiaConfigKind
{
    GpuConfig,
    MigDeviceConfig,
    VfioDeviceConfig,
    ComputeDomainChannelConfig,
    ComputeDomainDaemonConfig,
}
