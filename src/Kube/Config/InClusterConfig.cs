using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SecureDra.Kube.Client;

namespace SecureDra.Kube.Config;

/// <summary>
/// The pod's own service account: server from KUBERNETES_SERVICE_HOST/PORT, ca.crt as the only
/// trust anchor, the token re-read periodically (bound tokens rotate). Paths and environment are
/// injectable so tests can use a fake service-account directory.
/// </summary>
public static class InClusterConfig
{
    public const string DefaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    public static KubeConnectionSettings Load(
        string serviceAccountDirectory = DefaultServiceAccountDirectory,
        Func<string, string?>? environment = null,
        TimeProvider? timeProvider = null,
        TimeSpan? tokenRefreshInterval = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceAccountDirectory);
        environment ??= Environment.GetEnvironmentVariable;
        var host = environment("KUBERNETES_SERVICE_HOST");
        var port = environment("KUBERNETES_SERVICE_PORT");
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port))
        {
            throw new KubeConfigException(
                "no kubeconfig given and not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set (pass --kubeconfig outside a pod)");
        }

        if (!int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var portNumber) || portNumber is < 1 or > 65535)
        {
            throw new KubeConfigException($"KUBERNETES_SERVICE_PORT {port} is not a port number");
        }

        var hostPart = host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host;
        if (!Uri.TryCreate($"https://{hostPart}:{portNumber}", UriKind.Absolute, out var server))
        {
            throw new KubeConfigException($"KUBERNETES_SERVICE_HOST {host} is not a host name or address");
        }

        var tokenPath = Path.Combine(serviceAccountDirectory, "token");
        if (!File.Exists(tokenPath))
        {
            throw new KubeConfigException($"in-cluster service-account token {tokenPath} does not exist (is automountServiceAccountToken off?)");
        }

        var caPath = Path.Combine(serviceAccountDirectory, "ca.crt");
        if (!File.Exists(caPath))
        {
            throw new KubeConfigException($"in-cluster CA bundle {caPath} does not exist");
        }

        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPem(File.ReadAllText(caPath));
        }
        catch (CryptographicException ex)
        {
            throw new KubeConfigException($"in-cluster CA bundle {caPath} is not valid PEM: {ex.Message}", ex);
        }

        if (authorities.Count == 0)
        {
            throw new KubeConfigException($"in-cluster CA bundle {caPath} holds no certificate");
        }

        var namespacePath = Path.Combine(serviceAccountDirectory, "namespace");
        var ns = File.Exists(namespacePath) ? File.ReadAllText(namespacePath).Trim() : null;
        return new KubeConnectionSettings
        {
            Server = server,
            CertificateAuthorities = authorities,
            TokenSource = new FileTokenSource(tokenPath, tokenRefreshInterval, timeProvider),
            Namespace = string.IsNullOrEmpty(ns) ? null : ns,
            Source = $"in-cluster service account ({serviceAccountDirectory})",
        };
    }
}
