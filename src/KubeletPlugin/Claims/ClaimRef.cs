namespace SecureDra.KubeletPlugin.Claims;

/// <summary>A claim as the kubelet names it in a DRA call, already checked against the input bounds.</summary>
public sealed record ClaimRef(string Namespace, string Name, string Uid);
