namespace SecureDra.KubeletPlugin.Claims;

/// <summary>Request names as they appear in allocation results: "req" or "req/sub".</summary>
public static class RequestNames
{
    /// <summary>"req/sub" → "req": container references and the kubelet use base names.</summary>
    public static string Base(string request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var slash = request.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? request : request[..slash];
    }

    /// <summary>Whether a config's requests list covers an allocation result's request (empty = all; "req" covers "req/sub").</summary>
    public static bool ConfigApplies(IReadOnlyList<string> configRequests, string resultRequest)
    {
        ArgumentNullException.ThrowIfNull(configRequests);
        if (configRequests.Count == 0)
        {
            return true;
        }

        var baseName = Base(resultRequest);
        return configRequests.Any(r => r == resultRequest || r == baseName);
    }
}
