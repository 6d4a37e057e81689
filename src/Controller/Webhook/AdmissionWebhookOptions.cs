namespace SecureDra.Controller.Webhook;

/// <summary>Bounds and names for the validating admission webhook.</summary>
public sealed record AdmissionWebhookOptions
{
    /// <summary>The webhook path registered in the ValidatingWebhookConfiguration.</summary>
    public string Path { get; init; } = "/validate";

    /// <summary>3 MiB: the API server's own request size limit for one object; nothing larger is a real review.</summary>
    public int MaxBodyBytes { get; init; } = 3 * 1024 * 1024;

    /// <summary>
    /// Whole-body read deadline per request. The API server's webhook call times out after at most 30 s
    /// (timeoutSeconds, default 10), so a body still arriving after this is a stalled or hostile client.
    /// </summary>
    public TimeSpan BodyReadTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Nesting allowed when parsing the review itself; the opaque parameters have their own, much lower bound.</summary>
    public int MaxJsonDepth { get; init; } = 256;

    /// <summary>At most this many errors are listed in a rejection message; the rest are counted.</summary>
    public int MaxErrorsInMessage { get; init; } = 16;
}
