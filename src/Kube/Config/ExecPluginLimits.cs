namespace SecureDra.Kube.Config;

/// <summary>Bounds on one run of an exec credential plugin.</summary>
public sealed record ExecPluginLimits
{
    /// <summary>Cloud plugins answer in a second or two (a cold <c>aws eks get-token</c> about 3 s); past this the plugin is killed.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    public int MaxStdoutBytes { get; init; } = ExecCredentialParser.MaxOutputBytes;

    /// <summary>How much of the plugin's stderr is passed through; the rest is read and dropped so the plugin never blocks on a full pipe.</summary>
    public int MaxStderrBytes { get; init; } = 16 * 1024;
}
