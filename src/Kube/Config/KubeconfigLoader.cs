using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using SecureDra.Kube.Client;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SecureDra.Kube.Config;

/// <summary>
/// Reads a kubeconfig file with YamlDotNet's representation model (no reflection deserializer, so
/// Native AOT stays clean): current-context → cluster (server, certificate-authority[-data],
/// insecure-skip-tls-verify) and user (token, tokenFile, client-certificate[-data] + client-key[-data]).
/// Relative file paths resolve against the kubeconfig's directory, as kubectl does.
/// </summary>
public static class KubeconfigLoader
{
    private const long MaxKubeconfigBytes = 4 * 1024 * 1024;

    public static KubeConnectionSettings Load(string path, string? context = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new KubeConfigException($"kubeconfig {full} does not exist");
        }

        if (new FileInfo(full).Length > MaxKubeconfigBytes)
        {
            throw new KubeConfigException($"kubeconfig {full} exceeds the limit of {MaxKubeconfigBytes} bytes");
        }

        return Parse(File.ReadAllText(full), full, context, timeProvider);
    }

    /// <param name="origin">The file the text came from; its directory resolves relative paths.</param>
    public static KubeConnectionSettings Parse(string yaml, string origin, string? context = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentException.ThrowIfNullOrEmpty(origin);
        var baseDir = Path.GetDirectoryName(Path.GetFullPath(origin)) ?? "/";
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new KubeConfigException($"kubeconfig {origin}: not valid YAML at line {ex.Start.Line}: {ex.Message}", ex);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new KubeConfigException($"kubeconfig {origin}: expected a mapping at the top level");
        }

        var contextName = context ?? Scalar(root, "current-context");
        if (string.IsNullOrEmpty(contextName))
        {
            throw new KubeConfigException($"kubeconfig {origin}: current-context is not set");
        }

        var ctx = Named(root, "contexts", "context", contextName, origin);
        var clusterName = Scalar(ctx, "cluster");
        if (string.IsNullOrEmpty(clusterName))
        {
            throw new KubeConfigException($"kubeconfig {origin}: contexts[{contextName}].context.cluster is not set");
        }

        var cluster = Named(root, "clusters", "cluster", clusterName, origin);
        var where = $"kubeconfig {origin}: clusters[{clusterName}].cluster";
        var serverText = Scalar(cluster, "server");
        if (string.IsNullOrEmpty(serverText))
        {
            throw new KubeConfigException($"{where}.server is not set");
        }

        if (!Uri.TryCreate(serverText, UriKind.Absolute, out var server) || (server.Scheme != Uri.UriSchemeHttps && server.Scheme != Uri.UriSchemeHttp))
        {
            throw new KubeConfigException($"{where}.server {serverText} is not an http:// or https:// URL");
        }

        var insecure = Bool(cluster, "insecure-skip-tls-verify", where);
        X509Certificate2Collection? authorities = null;
        if (Scalar(cluster, "certificate-authority-data") is { Length: > 0 } caData)
        {
            authorities = LoadAuthorities(DecodeBase64(caData, $"{where}.certificate-authority-data"), $"{where}.certificate-authority-data");
        }
        else if (Scalar(cluster, "certificate-authority") is { Length: > 0 } caFile)
        {
            authorities = LoadAuthorities(ReadFile(baseDir, caFile, $"{where}.certificate-authority"), $"{where}.certificate-authority");
        }

        if (insecure && authorities is not null)
        {
            throw new KubeConfigException($"{where}: insecure-skip-tls-verify and a certificate authority are both set; choose one");
        }

        var userName = Scalar(ctx, "user");
        IKubeTokenSource? tokens = null;
        X509Certificate2? clientCertificate = null;
        if (!string.IsNullOrEmpty(userName))
        {
            var user = Named(root, "users", "user", userName, origin);
            var userWhere = $"kubeconfig {origin}: users[{userName}].user";
            foreach (var unsupported in (string[])["exec", "auth-provider", "username", "password"])
            {
                if (user.Children.ContainsKey(new YamlScalarNode(unsupported)))
                {
                    throw new KubeConfigException($"{userWhere}.{unsupported} is not supported; use token, tokenFile or client-certificate/client-key");
                }
            }

            if (Scalar(user, "token") is { Length: > 0 } token)
            {
                tokens = new StaticTokenSource(token);
            }
            else if (Scalar(user, "tokenFile") is { Length: > 0 } tokenFile)
            {
                var tokenPath = Resolve(baseDir, tokenFile);
                if (!File.Exists(tokenPath))
                {
                    throw new KubeConfigException($"{userWhere}.tokenFile {tokenPath} does not exist");
                }

                tokens = new FileTokenSource(tokenPath, timeProvider: timeProvider);
            }

            clientCertificate = LoadClientCertificate(user, baseDir, userWhere);
        }

        if (server.Scheme == Uri.UriSchemeHttp && (tokens is not null || clientCertificate is not null) && !server.IsLoopback)
        {
            throw new KubeConfigException($"{where}.server {server} is plain http to a non-loopback host; refusing to send credentials over it");
        }

        return new KubeConnectionSettings
        {
            Server = server,
            CertificateAuthorities = authorities,
            InsecureSkipTlsVerify = insecure,
            ClientCertificate = clientCertificate,
            TokenSource = tokens,
            Namespace = Scalar(ctx, "namespace"),
            Source = $"kubeconfig {origin}, context {contextName}",
        };
    }

    private static X509Certificate2? LoadClientCertificate(YamlMappingNode user, string baseDir, string where)
    {
        var certPem = Scalar(user, "client-certificate-data") is { Length: > 0 } certData
            ? DecodeBase64(certData, $"{where}.client-certificate-data")
            : Scalar(user, "client-certificate") is { Length: > 0 } certFile ? ReadFile(baseDir, certFile, $"{where}.client-certificate") : null;
        var keyPem = Scalar(user, "client-key-data") is { Length: > 0 } keyData
            ? DecodeBase64(keyData, $"{where}.client-key-data")
            : Scalar(user, "client-key") is { Length: > 0 } keyFile ? ReadFile(baseDir, keyFile, $"{where}.client-key") : null;

        if (certPem is null && keyPem is null)
        {
            return null;
        }

        if (certPem is null)
        {
            throw new KubeConfigException($"{where}: client-key is set but client-certificate / client-certificate-data is missing");
        }

        if (keyPem is null)
        {
            throw new KubeConfigException($"{where}: client-certificate is set but client-key / client-key-data is missing");
        }

        try
        {
            return X509Certificate2.CreateFromPem(certPem, keyPem);
        }
        catch (CryptographicException ex)
        {
            throw new KubeConfigException($"{where}: client certificate and key are not a valid PEM pair: {ex.Message}", ex);
        }
    }

    private static X509Certificate2Collection LoadAuthorities(string pem, string field)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPem(pem);
        }
        catch (CryptographicException ex)
        {
            throw new KubeConfigException($"{field}: not a valid PEM certificate: {ex.Message}", ex);
        }

        if (collection.Count == 0)
        {
            throw new KubeConfigException($"{field}: holds no PEM certificate");
        }

        return collection;
    }

    private static string DecodeBase64(string value, string field)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(value.Trim()));
        }
        catch (FormatException ex)
        {
            throw new KubeConfigException($"{field}: not valid base64", ex);
        }
    }

    private static string ReadFile(string baseDir, string file, string field)
    {
        var full = Resolve(baseDir, file);
        if (!File.Exists(full))
        {
            throw new KubeConfigException($"{field}: file {full} does not exist");
        }

        return File.ReadAllText(full);
    }

    private static string Resolve(string baseDir, string file) =>
        Path.IsPathRooted(file) ? file : Path.GetFullPath(Path.Combine(baseDir, file));

    private static YamlMappingNode Named(YamlMappingNode root, string listKey, string innerKey, string name, string origin)
    {
        if (!root.Children.TryGetValue(new YamlScalarNode(listKey), out var listNode) || listNode is not YamlSequenceNode list)
        {
            throw new KubeConfigException($"kubeconfig {origin}: {listKey} is missing (looking for {innerKey} {name})");
        }

        foreach (var entry in list.Children.OfType<YamlMappingNode>())
        {
            if (Scalar(entry, "name") == name)
            {
                return entry.Children.TryGetValue(new YamlScalarNode(innerKey), out var inner) && inner is YamlMappingNode mapping
                    ? mapping
                    : throw new KubeConfigException($"kubeconfig {origin}: {listKey}[{name}].{innerKey} is missing");
            }
        }

        throw new KubeConfigException($"kubeconfig {origin}: {listKey} has no entry named {name}");
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar ? scalar.Value : null;

    private static bool Bool(YamlMappingNode node, string key, string where) => Scalar(node, key) switch
    {
        null or "" or "false" or "False" => false,
        "true" or "True" => true,
        var other => throw new KubeConfigException($"{where}.{key}: {other} is not true or false"),
    };
}
