using System.Security.Cryptography.X509Certificates;
using SecureDra.Kube.Client;

namespace SecureDra.Kube.Config;

/// <summary>
/// Where the API server is and how to trust and authenticate to it, however it was found
/// (kubeconfig, in-cluster, plain URL). Owns its certificates.
/// </summary>
public sealed class KubeConnectionSettings : IDisposable
{
    public required Uri Server { get; init; }

    /// <summary>When set, the only trust anchors for the server certificate (system roots are not consulted).</summary>
    public X509Certificate2Collection? CertificateAuthorities { get; init; }

    public bool InsecureSkipTlsVerify { get; init; }

    public X509Certificate2? ClientCertificate { get; init; }

    public IKubeTokenSource? TokenSource { get; init; }

    /// <summary>The namespace of the context or of the service account, when known.</summary>
    public string? Namespace { get; init; }

    /// <summary>Where these settings came from, for logs and errors ("kubeconfig /x, context y", "in-cluster").</summary>
    public string Source { get; init; } = "";

    public void Dispose()
    {
        ClientCertificate?.Dispose();
        if (CertificateAuthorities is not null)
        {
            foreach (var certificate in CertificateAuthorities)
            {
                certificate.Dispose();
            }
        }

        (TokenSource as IDisposable)?.Dispose();
    }
}
