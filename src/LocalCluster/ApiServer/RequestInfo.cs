namespace SecureDra.LocalCluster.ApiServer;

/// <summary>What a request path addresses, parsed the way the API server's RequestInfoFactory does.</summary>
public sealed record RequestInfo(
    bool IsResourceRequest,
    string? Group,
    string? Version,
    string? Plural,
    string? Namespace,
    string? Name,
    string? Subresource,
    bool LegacyWatchPath)
{
    public static RequestInfo NonResource { get; } = new(false, null, null, null, null, null, null, false);

    /// <summary>Parses /api/v1/... and /apis/{group}/{version}/...; <paramref name="isNamespaced"/> says whether a plural is namespaced.</summary>
    public static RequestInfo Parse(string path, Func<string, string, string, bool?> isNamespaced)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(isNamespaced);
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string group;
        string version;
        int rest;
        if (segments.Length >= 2 && segments[0] == "api")
        {
            (group, version, rest) = (string.Empty, segments[1], 2);
        }
        else if (segments.Length >= 3 && segments[0] == "apis")
        {
            (group, version, rest) = (segments[1], segments[2], 3);
        }
        else
        {
            return NonResource;
        }

        var parts = segments[rest..];
        var legacyWatch = false;
        if (parts.Length > 0 && parts[0] == "watch")
        {
            legacyWatch = true;
            parts = parts[1..];
        }

        if (parts.Length == 0)
        {
            return new RequestInfo(false, group, version, null, null, null, null, false);
        }

        string? ns = null;
        if (parts.Length >= 3 && parts[0] == "namespaces" && isNamespaced(group, version, parts[2]) == true)
        {
            ns = parts[1];
            parts = parts[2..];
        }

        return new RequestInfo(
            true,
            group,
            version,
            parts[0],
            ns,
            parts.Length > 1 ? parts[1] : null,
            parts.Length > 2 ? string.Join('/', parts[2..]) : null,
            legacyWatch);
    }
}
