using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using SecureDra.Kube.Client;

namespace SecureDra.Kube.Config;

/// <summary>
/// Reads kubeconfig files with the project's strict YAML reader (no reflection deserializer, so Native AOT stays
/// clean; depth, size and node count bounded): current-context → cluster (server, certificate-authority[-data],
/// insecure-skip-tls-verify) and user (token, tokenFile, exec credential plugin, client-certificate[-data] +
/// client-key[-data]). A colon-separated list (<c>KUBECONFIG=a:b</c>) is merged with kubectl's rules. Relative
/// paths resolve against the directory of the file that defined the entry, as kubectl does. Every error is a
/// <see cref="KubeConfigException"/> whose one-line message names the file and the field.
/// </summary>
public static class KubeconfigLoader
{
    private static readonly string[] ClusterFields = ["server", "certificate-authority", "certificate-authority-data", "insecure-skip-tls-verify", "extensions", "disable-compression"];
    private static readonly string[] ClusterUnsupported = ["tls-server-name", "proxy-url"];
    private static readonly string[] UserFields = ["token", "tokenFile", "client-certificate", "client-certificate-data", "client-key", "client-key-data", "exec", "extensions"];
    private static readonly string[] UserUnsupported = ["auth-provider", "username", "password", "as", "as-uid", "as-groups", "as-user-extra"];
    private static readonly string[] ContextFields = ["cluster", "user", "namespace", "extensions"];

    /// <summary>One kubeconfig file, which must exist (as kubectl's <c>--kubeconfig</c>).</summary>
    public static KubeConnectionSettings Load(string path, string? context = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var merge = new KubeconfigMerge();
        var full = Path.GetFullPath(path);
        merge.Add(ReadFile(full), full);
        return Build(merge, context, timeProvider, null, null);
    }

    /// <summary>
    /// A KUBECONFIG list: files that do not exist are skipped (as kubectl does), empty and repeated entries are
    /// ignored, and the rest are merged; at least one file must exist.
    /// </summary>
    public static KubeConnectionSettings LoadMerged(
        IReadOnlyList<string> paths,
        string? context = null,
        TimeProvider? timeProvider = null,
        ExecPluginLimits? execLimits = null,
        TextWriter? execStderr = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var merge = new KubeconfigMerge();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            if (string.IsNullOrWhiteSpace(path))
            {
                continue;
            }

            var full = Path.GetFullPath(path);
            if (!seen.Add(full) || !File.Exists(full))
            {
                continue;
            }

            merge.Add(ReadFile(full), full);
        }

        if (merge.Origins.Count == 0)
        {
            throw new KubeConfigException($"KUBECONFIG: none of the {paths.Count(p => !string.IsNullOrWhiteSpace(p))} listed files exists ({string.Join(Path.PathSeparator, paths)})");
        }

        return Build(merge, context, timeProvider, execLimits, execStderr);
    }

    /// <param name="origin">The file the text came from; its directory resolves relative paths.</param>
    public static KubeConnectionSettings Parse(string yaml, string origin, string? context = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentException.ThrowIfNullOrEmpty(origin);
        var merge = new KubeconfigMerge();
        merge.Add(KubeconfigYaml.Read(yaml, origin), origin);
        return Build(merge, context, timeProvider, null, null);
    }

    private static JsonObject ReadFile(string full)
    {
        if (Directory.Exists(full))
        {
            throw new KubeConfigException($"kubeconfig {full} is a directory, not a file");
        }

        if (!File.Exists(full))
        {
            throw new KubeConfigException($"kubeconfig {full} does not exist");
        }

        string text;
        try
        {
            if (new FileInfo(full).Length > KubeconfigYaml.MaxBytes)
            {
                throw new KubeConfigException($"kubeconfig {full} exceeds the limit of {KubeconfigYaml.MaxBytes} bytes");
            }

            text = File.ReadAllText(full);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KubeConfigException($"kubeconfig {full} cannot be read: {ex.Message}", ex);
        }

        return KubeconfigYaml.Read(text, full);
    }

    private static KubeConnectionSettings Build(KubeconfigMerge merge, string? context, TimeProvider? timeProvider, ExecPluginLimits? execLimits, TextWriter? execStderr)
    {
        var files = string.Join(Path.PathSeparator, merge.Origins);
        var contextName = context ?? merge.CurrentContext;
        if (string.IsNullOrEmpty(contextName))
        {
            throw new KubeConfigException($"kubeconfig {files}: current-context is not set");
        }

        var ctxEntry = Find(merge.Contexts, "contexts", "context", contextName, files);
        var ctxWhere = $"kubeconfig {ctxEntry.Origin}: contexts[{KubeconfigFields.Quote(contextName)}].context";
        var ctx = ctxEntry.Body!;
        KubeconfigFields.RejectUnknown(ctx, ctxWhere, ContextFields);
        var clusterName = KubeconfigFields.String(ctx, "cluster", ctxWhere);
        if (string.IsNullOrEmpty(clusterName))
        {
            throw new KubeConfigException($"{ctxWhere}.cluster is not set");
        }

        var clusterEntry = Find(merge.Clusters, "clusters", "cluster", clusterName, files);
        var cluster = clusterEntry.Body!;
        var where = $"kubeconfig {clusterEntry.Origin}: clusters[{KubeconfigFields.Quote(clusterName)}].cluster";
        KubeconfigFields.RejectUnknown(cluster, where, ClusterFields, ClusterUnsupported);
        var serverText = KubeconfigFields.String(cluster, "server", where);
        if (string.IsNullOrEmpty(serverText))
        {
            throw new KubeConfigException($"{where}.server is not set");
        }

        if (!Uri.TryCreate(serverText, UriKind.Absolute, out var server) || (server.Scheme != Uri.UriSchemeHttps && server.Scheme != Uri.UriSchemeHttp))
        {
            throw new KubeConfigException($"{where}.server {KubeconfigFields.Quote(serverText)} is not an http:// or https:// URL");
        }

        var insecure = KubeconfigFields.Bool(cluster, "insecure-skip-tls-verify", where);
        X509Certificate2Collection? authorities = null;
        string? caPem = null;
        if (KubeconfigFields.String(cluster, "certificate-authority-data", where) is { Length: > 0 } caData)
        {
            caPem = DecodeBase64(caData, $"{where}.certificate-authority-data");
            authorities = LoadAuthorities(caPem, $"{where}.certificate-authority-data");
        }
        else if (KubeconfigFields.String(cluster, "certificate-authority", where) is { Length: > 0 } caFile)
        {
            caPem = ReadFile(clusterEntry.BaseDirectory, caFile, $"{where}.certificate-authority");
            authorities = LoadAuthorities(caPem, $"{where}.certificate-authority");
        }

        if (insecure && authorities is not null)
        {
            throw new KubeConfigException($"{where}: insecure-skip-tls-verify and a certificate authority are both set; choose one");
        }

        var userName = KubeconfigFields.String(ctx, "user", ctxWhere);
        IKubeTokenSource? tokens = null;
        X509Certificate2? clientCertificate = null;
        if (!string.IsNullOrEmpty(userName))
        {
            var userEntry = Find(merge.Users, "users", "user", userName, files);
            var user = userEntry.Body!;
            var userWhere = $"kubeconfig {userEntry.Origin}: users[{KubeconfigFields.Quote(userName)}].user";
            KubeconfigFields.RejectUnknown(user, userWhere, UserFields, UserUnsupported);
            var token = KubeconfigFields.String(user, "token", userWhere);
            var tokenFile = KubeconfigFields.String(user, "tokenFile", userWhere);
            var exec = KubeconfigFields.Object(user, "exec", userWhere);
            if (new[] { !string.IsNullOrEmpty(token), !string.IsNullOrEmpty(tokenFile), exec is not null }.Count(b => b) > 1)
            {
                throw new KubeConfigException($"{userWhere}: set only one of token, tokenFile and exec");
            }

            if (!string.IsNullOrEmpty(token))
            {
                tokens = new StaticTokenSource(token);
            }
            else if (!string.IsNullOrEmpty(tokenFile))
            {
                var tokenPath = Resolve(userEntry.BaseDirectory, tokenFile);
                if (!File.Exists(tokenPath))
                {
                    throw new KubeConfigException($"{userWhere}.tokenFile {tokenPath} does not exist");
                }

                tokens = new FileTokenSource(tokenPath, timeProvider: timeProvider);
            }
            else if (exec is not null)
            {
                var config = ExecCredentialConfig.Parse(exec, $"{userWhere}.exec", userEntry.BaseDirectory, () => ClusterInfo(server, caPem, insecure, cluster, where));
                tokens = new ExecTokenSource(config, execLimits, timeProvider, execStderr);
            }

            clientCertificate = LoadClientCertificate(user, userEntry.BaseDirectory, userWhere);
        }

        if (server.Scheme == Uri.UriSchemeHttp && (tokens is not null || clientCertificate is not null) && !server.IsLoopback)
        {
            clientCertificate?.Dispose();
            throw new KubeConfigException($"{where}.server {server} is plain http to a non-loopback host; refusing to send credentials over it");
        }

        return new KubeConnectionSettings
        {
            Server = server,
            CertificateAuthorities = authorities,
            InsecureSkipTlsVerify = insecure,
            ClientCertificate = clientCertificate,
            TokenSource = tokens,
            Namespace = KubeconfigFields.String(ctx, "namespace", ctxWhere),
            Source = $"kubeconfig {files}, context {contextName}",
        };
    }

    /// <summary>KUBERNETES_EXEC_INFO's spec.cluster (client-go's clientauthentication Cluster), for provideClusterInfo.</summary>
    private static JsonObject ClusterInfo(Uri server, string? caPem, bool insecure, JsonObject cluster, string where)
    {
        var info = new JsonObject { ["server"] = server.ToString().TrimEnd('/') };
        if (caPem is not null)
        {
            info["certificate-authority-data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(caPem));
        }

        if (insecure)
        {
            info["insecure-skip-tls-verify"] = true;
        }

        if (KubeconfigFields.Array(cluster, "extensions", where) is { } extensions)
        {
            foreach (var extension in extensions.OfType<JsonObject>())
            {
                if (extension["name"] is JsonValue name && name.TryGetValue<string>(out var n) && n == "client.authentication.k8s.io/exec")
                {
                    info["config"] = extension["extension"]?.DeepClone();
                }
            }
        }

        return info;
    }

    private static NamedEntry Find(Dictionary<string, NamedEntry> entries, string listKey, string innerKey, string name, string files)
    {
        if (!entries.TryGetValue(name, out var entry))
        {
            throw new KubeConfigException($"kubeconfig {files}: {listKey} has no entry named {KubeconfigFields.Quote(name)}");
        }

        return entry.Body is null
            ? throw new KubeConfigException($"kubeconfig {entry.Origin}: {listKey}[{KubeconfigFields.Quote(name)}].{innerKey} is missing")
            : entry;
    }

    private static X509Certificate2? LoadClientCertificate(JsonObject user, string baseDir, string where)
    {
        var certPem = KubeconfigFields.String(user, "client-certificate-data", where) is { Length: > 0 } certData
            ? DecodeBase64(certData, $"{where}.client-certificate-data")
            : KubeconfigFields.String(user, "client-certificate", where) is { Length: > 0 } certFile ? ReadFile(baseDir, certFile, $"{where}.client-certificate") : null;
        var keyPem = KubeconfigFields.String(user, "client-key-data", where) is { Length: > 0 } keyData
            ? DecodeBase64(keyData, $"{where}.client-key-data")
            : KubeconfigFields.String(user, "client-key", where) is { Length: > 0 } keyFile ? ReadFile(baseDir, keyFile, $"{where}.client-key") : null;

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
            throw new KubeConfigException($"{where}: client certificate and key are not a valid PEM pair: {OneLine(ex.Message)}", ex);
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
            throw new KubeConfigException($"{field}: not a valid PEM certificate: {OneLine(ex.Message)}", ex);
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

    private const long MaxReferencedFileBytes = 1024 * 1024;

    private static string ReadFile(string baseDir, string file, string field)
    {
        var full = Resolve(baseDir, file);
        try
        {
            if (!File.Exists(full))
            {
                throw new KubeConfigException($"{field}: file {full} does not exist");
            }

            if (new FileInfo(full).Length > MaxReferencedFileBytes)
            {
                throw new KubeConfigException($"{field}: file {full} exceeds the limit of {MaxReferencedFileBytes} bytes");
            }

            return File.ReadAllText(full);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KubeConfigException($"{field}: file {full} cannot be read: {OneLine(ex.Message)}", ex);
        }
    }

    private static string Resolve(string baseDir, string file) =>
        Path.IsPathRooted(file) ? file : Path.GetFullPath(Path.Combine(baseDir, file));

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
