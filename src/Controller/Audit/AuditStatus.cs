namespace SecureDra.Controller.Audit;

/// <summary>
/// The outcome of the latest audit runs, for /readyz and the metrics: how many runs in a row failed, why the last
/// one failed, and when one last succeeded. Written by the audit loop, read by probes.
/// </summary>
public sealed class AuditStatus
{
    private readonly Lock _lock = new();
    private int _consecutiveFailures;
    private string? _lastError;
    private DateTimeOffset? _lastSuccess;

    public int ConsecutiveFailures
    {
        get
        {
            lock (_lock)
            {
                return _consecutiveFailures;
            }
        }
    }

    public (int ConsecutiveFailures, string? LastError, DateTimeOffset? LastSuccess) Snapshot()
    {
        lock (_lock)
        {
            return (_consecutiveFailures, _lastError, _lastSuccess);
        }
    }

    public void Succeeded(DateTimeOffset at)
    {
        lock (_lock)
        {
            _consecutiveFailures = 0;
            _lastError = null;
            _lastSuccess = at;
        }
    }

    /// <returns>The number of consecutive failures, this one included.</returns>
    public int Failed(string error)
    {
        lock (_lock)
        {
            _lastError = error;
            return ++_consecutiveFailures;
        }
    }

    /// <summary>The lines /readyz adds: informative only, a failing audit never makes the controller unready (docs/hardening.md).</summary>
    public string Describe()
    {
        var (failures, error, success) = Snapshot();
        var last = success is { } s ? s.ToUniversalTime().ToString("o", System.Globalization.CultureInfo.InvariantCulture) : "never";
        return failures == 0
            ? $"audit: ok (last success {last})\n"
            : $"audit: failing ({failures} consecutive run(s), last success {last}): {error}\n";
    }
}
