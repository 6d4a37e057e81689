namespace SecureDra.LocalCluster.Kubelet;

/// <summary>The emulated kubelet refused a plugin, with the reason it also sent in NotifyRegistrationStatus.</summary>
public sealed class KubeletRegistrationException : Exception
{
    public KubeletRegistrationException() { }

    public KubeletRegistrationException(string message) : base(message) { }

    public KubeletRegistrationException(string message, Exception innerException) : base(message, innerException) { }
}
