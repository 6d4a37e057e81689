using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>
/// The MIG manager's refusals, <c>securedra_mig_manager_refused_total{reason}</c> with reason one of
/// <see cref="Reasons"/>, and its calls, <c>securedra_mig_manager_calls_total{operation, result}</c> (result ok or the
/// gRPC status name).
/// </summary>
public sealed class MigManagerMetrics
{
    /// <summary>peer_uid: a peer with another uid; no_credentials: SO_PEERCRED unreadable; unknown_fields: a request with fields this version does not know; invalid: a field out of range.</summary>
    public static readonly IReadOnlyList<string> Reasons = ["peer_uid", "no_credentials", "unknown_fields", "invalid"];

    private readonly Counter _refused;
    private readonly Counter _calls;

    public MigManagerMetrics(MetricsRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _refused = registry.Counter("securedra_mig_manager_refused_total",
            "Connections and requests the MIG manager refused, by reason (peer_uid, no_credentials, unknown_fields, invalid).", "reason");
        _calls = registry.Counter("securedra_mig_manager_calls_total", "Calls the MIG manager served, by operation and result (ok or the gRPC status).", "operation", "result");
        foreach (var reason in Reasons)
        {
            _refused.Add(0, reason);
        }
    }

    public void Refused(string reason)
    {
        if (!Reasons.Contains(reason))
        {
            throw new ArgumentOutOfRangeException(nameof(reason), reason, "not a MIG manager refusal reason");
        }

        _refused.Inc(reason);
    }

    public void Call(string operation, string result) => _calls.Inc(operation, result);
}
