namespace SecureDra.Cli.Demo;

/// <summary>
/// <c>demo --keep-running</c>, the same for every mode: say what stays up, how to look at it with kubectl and curl,
/// then wait for Ctrl+C (the cancellation of <paramref name="ct"/>).
/// </summary>
internal static class DemoKeepRunning
{
    /// <param name="running">What stays up, e.g. "the API server and plugin".</param>
    /// <param name="apiServer">The local API server's address, for the kubectl hint.</param>
    /// <param name="metricsOwner">Whose metrics the curl hint reads, e.g. "plugin".</param>
    /// <param name="metricsUrl">Its /metrics URL.</param>
    public static async Task WaitAsync(TextWriter output, string running, Uri apiServer, string metricsOwner, string metricsUrl, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(apiServer);
        output.WriteLine($"Keeping {running} up. Try: kubectl --server {apiServer.ToString().TrimEnd('/')} get resourceslices -o json");
        output.WriteLine($"The {metricsOwner}'s metrics: curl {metricsUrl}");
        output.WriteLine("Press Ctrl+C to stop.");
        try
        {
            await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
