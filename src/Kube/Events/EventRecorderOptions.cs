namespace SecureDra.Kube.Events;

public sealed record EventRecorderOptions
{
    /// <summary>Events for one (object, reason) that may be written back to back.</summary>
    public int Burst { get; init; } = 5;

    /// <summary>After the burst, one more event per this interval; the rest are counted and folded into the next one written.</summary>
    public TimeSpan RefillInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Keys remembered at most; beyond it, full buckets are dropped first.</summary>
    public int MaxTrackedKeys { get; init; } = 4096;

    public string Component { get; init; } = "securedra";

    /// <summary>Written as source.host and reportingInstance when set (the node name on the plugin).</summary>
    public string? Host { get; init; }
}
