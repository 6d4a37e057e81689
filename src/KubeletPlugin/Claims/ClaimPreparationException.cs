namespace SecureDra.KubeletPlugin.Claims;

/// <summary>A claim-level failure whose message goes to the kubelet as that claim's error.</summary>
public sealed class ClaimPreparationException : Exception
{
    public ClaimPreparationException() { }
    public ClaimPreparationException(string message) : base(message) { }
    public ClaimPreparationException(string message, Exception innerException) : base(message, innerException) { }
}
