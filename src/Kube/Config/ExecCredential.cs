namespace SecureDra.Kube.Config;

/// <summary>What an exec credential plugin returned: a bearer token, valid until <paramref name="ExpirationTimestamp"/> when given.</summary>
public sealed record ExecCredential(string Token, DateTimeOffset? ExpirationTimestamp);
