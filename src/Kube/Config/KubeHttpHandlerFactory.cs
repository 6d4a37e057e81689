using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace SecureDra.Kube.Config;

/// <summary>Builds the SocketsHttpHandler for a connection: custom CA as the only trust anchor, client certificate, or no verification when asked.</summary>
public static class KubeHttpHandlerFactory
{
    public static SocketsHttpHandler Create(KubeConnectionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseProxy = false,
        };

        if (settings.ClientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [settings.ClientCertificate];
        }

        if (settings.InsecureSkipTlsVerify)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else if (settings.CertificateAuthorities is { Count: > 0 } authorities)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
                ValidateAgainst(authorities, certificate, chain, errors);
        }

        return handler;
    }

    /// <summary>The chain must end in one of <paramref name="authorities"/> and the name must match; system roots do not count.</summary>
    internal static bool ValidateAgainst(X509Certificate2Collection authorities, X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
