namespace SecureDra.Api.Config;

/// <summary>
/// The opaque configuration of resource.securedra.io/v1alpha1, kind GpuConfig, after strict
/// decoding. <see cref="ResetPolicy"/> is always <see cref="DriverConstants.ZeroVramOnRelease"/>: it
/// declares what the plugin does to every device before reuse (scrub and verify its memory), and the
/// decoder accepts no other value. Sharing settings were removed: every claim gets whole GPUs.
/// </summary>
public sealed record GpuConfig(string ResetPolicy = DriverConstants.ZeroVramOnRelease);
