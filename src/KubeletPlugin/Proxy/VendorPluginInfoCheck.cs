using SecureDra.Protocol.Registration;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>A vendor plugin the proxy accepted: its DRA endpoint and the service version the proxy talks.</summary>
public sealed record VendorEndpoint(string DriverName, string EndpointPath, VendorDraVersion Version, bool ServesHealth);

/// <summary>The DRA service version chosen from the vendor's <c>supported_versions</c>.</summary>
public enum VendorDraVersion
{
    V1,
    V1Beta1,
}

/// <summary>
/// What the kubelet checks in a plugin's GetInfo, and more: the proxy accepts only <c>type=DRAPlugin</c>, the expected
/// driver name, an endpoint that exists under the allowed root (no '..', no symlink leaving it), and a
/// DRA version the proxy speaks (v1 preferred, as the kubelet 1.34+ does). Bounded: at most 16 versions of 64 bytes.
/// </summary>
public static class VendorPluginInfoCheck
{
    public const int MaxVersions = 16;
    public const int MaxStringBytes = 4096;

    /// <returns>Null and <paramref name="endpoint"/> set, or the one-line reason for refusing.</returns>
    public static string? Check(PluginInfo info, ProxyOptions options, out VendorEndpoint? endpoint)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(options);
        endpoint = null;
        if (info.Type != SecureDra.Api.DriverConstants.DraPluginType)
        {
            return $"type: \"{Clip(info.Type)}\" is not {SecureDra.Api.DriverConstants.DraPluginType}";
        }

        if (!string.Equals(info.Name, options.VendorDriverName, StringComparison.Ordinal))
        {
            return $"name: driver \"{Clip(info.Name)}\" is not the expected {options.VendorDriverName} (--vendor-driver-name)";
        }

        if (info.SupportedVersions.Count is 0 or > MaxVersions || info.SupportedVersions.Any(v => v.Length > 64))
        {
            return $"supported_versions: {info.SupportedVersions.Count} entries; 1 to {MaxVersions} of at most 64 bytes are accepted";
        }

        VendorDraVersion version;
        if (info.SupportedVersions.Contains("v1.DRAPlugin"))
        {
            version = VendorDraVersion.V1;
        }
        else if (info.SupportedVersions.Contains("v1beta1.DRAPlugin"))
        {
            version = VendorDraVersion.V1Beta1;
        }
        else
        {
            return $"supported_versions: none of {string.Join(", ", info.SupportedVersions.Select(Clip))} is v1.DRAPlugin or v1beta1.DRAPlugin";
        }

        var path = info.Endpoint;
        if (string.IsNullOrEmpty(path) || path.Length > MaxStringBytes || !Path.IsPathFullyQualified(path))
        {
            return $"endpoint: \"{Clip(path)}\" is not an absolute path";
        }

        var error = UnderRoot(path, options.VendorPluginsDirectory);
        if (error is not null)
        {
            return error;
        }

        endpoint = new VendorEndpoint(info.Name, path, version, info.SupportedVersions.Contains("v1alpha1.DRAResourceHealth"));
        return null;
    }

    /// <summary>The endpoint must be a socket whose real path (symlinks resolved) lies under the real root.</summary>
    private static string? UnderRoot(string path, string root)
    {
        string realRoot;
        string realPath;
        try
        {
            realRoot = Resolve(Path.GetFullPath(root));
            realPath = Resolve(Path.GetFullPath(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return $"endpoint: \"{Clip(path)}\" cannot be resolved ({ex.Message})";
        }

        var prefix = realRoot.EndsWith('/') ? realRoot : realRoot + "/";
        if (!realPath.StartsWith(prefix, StringComparison.Ordinal))
        {
            return $"endpoint: \"{Clip(path)}\" is not under {root} (--vendor-plugins-directory-path)";
        }

        // Whether it is a listening socket is learnt by dialling it (a regular file or FIFO refuses the connection);
        // opening it here could block on a FIFO.
        return File.Exists(realPath) ? null : $"endpoint: \"{Clip(path)}\" does not exist";
    }

    /// <summary>Resolves symlinks in every component that exists.</summary>
    private static string Resolve(string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = "/";
        for (var i = 0; i < parts.Length; i++)
        {
            var next = Path.Combine(current, parts[i]);
            var info = new FileInfo(next);
            if (info.LinkTarget is not null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true);
                next = target?.FullName ?? next;
            }

            current = next;
        }

        return current;
    }

    internal static string Clip(string? value) =>
        value is null ? "" : value.Length <= 128 ? value : value[..128] + "…";
}
