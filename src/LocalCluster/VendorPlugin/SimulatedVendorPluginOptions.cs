namespace SecureDra.LocalCluster.VendorPlugin;

/// <summary>
/// Where the simulated vendor plugin registers and listens. As NVIDIA's plugin is moved with its own
/// <c>--kubelet-registrar-directory-path</c> / <c>--kubelet-plugins-directory-path</c>, these are the private directories
/// only the driver proxy watches, never the kubelet's.
/// </summary>
public sealed record SimulatedVendorPluginOptions
{
    public required string RegistryDirectory { get; init; }

    public required string PluginsDirectory { get; init; }

    public required string NodeName { get; init; }

    public string DriverName { get; init; } = SecureDra.Api.DriverConstants.DefaultDriverName;

    public required IReadOnlyList<VendorGpu> Gpus { get; init; }
}
