namespace SecureDra.KubeletPlugin.Grpc;

/// <summary>
/// Bounds on what a DRA call may carry. The kubelet sends one pod's not-yet-prepared claims for this
/// driver per call, and a pod may reference at most 128 claims (PodSpec.ResourceClaims is capped at
/// 32 entries today), so 128 leaves room without letting one call fan out without bound.
/// </summary>
public static class ClaimRequestLimits
{
    /// <summary>gRPC MaxReceiveMessageSize: larger messages are refused by gRPC itself with ResourceExhausted.</summary>
    public const int MaxReceiveMessageBytes = 4 * 1024 * 1024;

    /// <summary>More claims than this in one call is a gRPC InvalidArgument for the whole call.</summary>
    public const int MaxClaimsPerRequest = 128;

    /// <summary>Kubernetes UIDs are 36-character UUIDs; 128 is generous and keeps keys and log lines bounded (the rule is <see cref="State.ClaimUid"/>).</summary>
    public const int MaxUidLength = State.ClaimUid.MaxLength;

    /// <summary>How much of an offending value an error message quotes.</summary>
    public const int MaxQuotedValueLength = 64;
}
