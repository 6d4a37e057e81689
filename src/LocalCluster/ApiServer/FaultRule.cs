namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// Fail the next <see cref="Count"/> requests that match: answer <see cref="Status"/> with a Status body
/// (429 and 503 carry Retry-After: <see cref="RetryAfterSeconds"/>), or with <see cref="Hang"/> never answer until
/// the client gives up or the server stops. Matching: path starts with <see cref="PathPrefix"/> (null = any API
/// path; /_securedra is never faulted) and, when set, the HTTP <see cref="Method"/> (GET, POST, PUT, PATCH, DELETE).
/// </summary>
public sealed record FaultRule
{
    public int Count { get; init; } = 1;

    public int Status { get; init; } = 500;

    public bool Hang { get; init; }

    public string? PathPrefix { get; init; }

    public string? Method { get; init; }

    public int RetryAfterSeconds { get; init; } = 1;
}
