namespace SecureDra.Api;

/// <summary>
/// Device attributes for the node's confidential-computing state, published by the kubelet plugin on every device and
/// read by the auditor. NVIDIA's DRA driver has none for CC and SecureDra publishes under NVIDIA's driver name, so they
/// are qualified with SecureDra's domain rather than left unqualified (which would mean <c>gpu.nvidia.com/…</c>).
/// </summary>
public static class ConfidentialComputeAttributeNames
{
    public const string Enabled = "securedra.io/ccEnabled";

    public const string DevToolsMode = "securedra.io/ccDevToolsMode";

    public const string Ready = "securedra.io/ccReady";
}
