using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SecureDra.Controller.Webhook;

/// <summary>
/// The CA bundle (<c>--client-ca-file</c>) whose client certificates the webhook accepts: with it the webhook answers
/// only the API server (configured with a client certificate through its AdmissionConfiguration kubeConfigFile), and
/// every other peer fails the TLS handshake before it can send a byte of HTTP. Loaded once at start; a bad file stops
/// the controller with one line naming the flag.
/// </summary>
public sealed class ClientCertificateAuthority
{
    /// <summary>A CA bundle is a few KiB; anything near this is not one.</summary>
    private const long MaxBundleBytes = 1024 * 1024;

    /// <summary>TLS Web Client Authentication: a certificate restricted to other uses is refused.</summary>
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private readonly X509Certificate2Collection _authorities;
    private readonly TimeProvider _time;

    private ClientCertificateAuthority(X509Certificate2Collection authorities, TimeProvider time)
    {
        _authorities = authorities;
        _time = time;
    }

    public string Path { get; private init; } = "";

    public int Count => _authorities.Count;

    /// <summary>Reads the PEM bundle; throws <see cref="InvalidOperationException"/> with a one-line reason naming the flag.</summary>
    public static ClientCertificateAuthority Load(string path, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(path);
        var authorities = new X509Certificate2Collection();
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new InvalidOperationException($"--client-ca-file: {path} does not exist");
            }

            if (info.Length > MaxBundleBytes)
            {
                throw new InvalidOperationException($"--client-ca-file: {path} is {info.Length} bytes; a CA bundle is at most {MaxBundleBytes}");
            }

            authorities.ImportFromPem(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new InvalidOperationException($"--client-ca-file: cannot read {path}: {e.Message}", e);
        }

        if (authorities.Count == 0)
        {
            throw new InvalidOperationException($"--client-ca-file: {path} holds no PEM certificate");
        }

        return new ClientCertificateAuthority(authorities, time) { Path = path };
    }

    /// <summary>
    /// Kestrel's ClientCertificateValidation: the chain must end at one of the bundle's certificates (the system roots
    /// are not trusted here), be valid now and allow client authentication. Revocation is not checked: the API server's
    /// client certificate comes from the cluster's own CA, which publishes no CRL or OCSP responder.
    /// </summary>
    public bool Validate(X509Certificate2 certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        chain.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        if (presented is not null)
        {
            // Intermediates the client sent; they are not trusted by being sent, only used to build the path.
            foreach (var element in presented.ChainElements)
            {
                if (!element.Certificate.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span))
                {
                    chain.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }
        }

        return chain.Build(certificate);
    }
}
