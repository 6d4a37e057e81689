namespace SecureDra.KubeletPlugin.Grpc;

/// <summary>A claim exactly as it arrived on the wire, v1 or v1beta1, not yet checked.</summary>
public sealed record WireClaim(string Namespace, string Name, string Uid);
