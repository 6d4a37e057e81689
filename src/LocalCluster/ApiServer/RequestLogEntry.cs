namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// One request the server received. <see cref="Group"/> and <see cref="Version"/> come from the path
/// ("" and "v1" for /api/v1; "resource.k8s.io" and "v1beta1" for /apis/resource.k8s.io/v1beta1/...); both are
/// null for non-resource paths such as /version. <see cref="Fault"/> names the injected fault, if any.
/// </summary>
public sealed record RequestLogEntry(
    long Sequence,
    DateTimeOffset Timestamp,
    string Method,
    string Path,
    string Query,
    string? Group,
    string? Version,
    string? Resource,
    string? Namespace,
    string? Name,
    string? Subresource,
    string Verb,
    int StatusCode,
    string? Fault,
    string? UserAgent);
