namespace SecureDra.Kube.Client;

/// <summary>Limits and identity for <see cref="KubeApiClient"/>.</summary>
public sealed record KubeApiClientOptions
{
    /// <summary>Per-request timeout for everything except watches (a watch lives until the server or the caller ends it).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest response body read for a non-watch call; a larger one is an error, never a partial read.</summary>
    public long MaxResponseBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Largest single watch event line.</summary>
    public int MaxWatchLineBytes { get; init; } = 16 * 1024 * 1024;

    public string UserAgent { get; init; } = $"securedra/{DefaultVersion}";

    internal static string DefaultVersion =>
        typeof(KubeApiClientOptions).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}
