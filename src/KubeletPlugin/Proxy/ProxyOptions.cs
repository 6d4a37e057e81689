namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>
/// Settings of <c>securedra proxy</c> towards the vendor's kubelet plugin. The proxy plays the kubelet for the vendor:
/// it watches <see cref="VendorRegistryDirectory"/> (the private registry the vendor was moved to with its own
/// <c>--kubelet-registrar-directory-path</c>), accepts only a DRA plugin named <see cref="VendorDriverName"/> whose
/// endpoint is a socket under <see cref="VendorPluginsDirectory"/>, and forwards Prepare/Unprepare to it.
/// </summary>
public sealed record ProxyOptions
{
    /// <summary>The vendor's private registration directory; the kubelet must not watch it.</summary>
    public string VendorRegistryDirectory { get; init; } = "/var/lib/securedra/vendor/plugins_registry";

    /// <summary>The only tree a vendor's DRA endpoint may live in (the vendor's <c>--kubelet-plugins-directory-path</c>).</summary>
    public string VendorPluginsDirectory { get; init; } = "/var/lib/securedra/vendor/plugins";

    /// <summary>The driver name the vendor must announce, and the one the proxy registers with the kubelet.</summary>
    public string VendorDriverName { get; init; } = SecureDra.Api.DriverConstants.DefaultDriverName;

    /// <summary>After this long without a connectable vendor endpoint the proxy withdraws its kubelet registration.</summary>
    public TimeSpan VendorUnreachableTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Deadline of one forwarded call, inside the kubelet's 45 s (its own checks and a scrub need the rest).</summary>
    public TimeSpan VendorCallTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How often the vendor's endpoint is dialled to see that it still listens, and the registry re-read.</summary>
    public TimeSpan VendorProbeInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest answer accepted from the vendor; a bigger one fails the call (and each of its claims).</summary>
    public int MaxVendorMessageBytes { get; init; } = 1024 * 1024;

    /// <summary>CDI device IDs accepted per device in the vendor's answer (NVIDIA emits one, plus one metadata ID per claim).</summary>
    public int MaxCdiIdsPerDevice { get; init; } = 4;

    /// <summary>Publish withdrawals as DeviceTaintRules where resource.k8s.io serves them (<c>--device-taint-rules</c>).</summary>
    public bool DeviceTaintRules { get; init; } = true;

    /// <summary>Check of the vendor's GetInfo against these options; null when acceptable.</summary>
    public string? Validate()
    {
        if (VendorUnreachableTimeout <= TimeSpan.Zero || VendorCallTimeout <= TimeSpan.Zero || VendorCallTimeout > TimeSpan.FromSeconds(40))
        {
            return "vendor timeouts must be positive and a forwarded call at most 40 s (the kubelet gives up after 45 s)";
        }

        if (!Path.IsPathFullyQualified(VendorRegistryDirectory) || !Path.IsPathFullyQualified(VendorPluginsDirectory))
        {
            return "--vendor-registry-directory-path and --vendor-plugins-directory-path must be absolute paths";
        }

        return null;
    }
}
