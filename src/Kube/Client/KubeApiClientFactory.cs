using Microsoft.Extensions.Logging;
using SecureDra.Kube.Config;

namespace SecureDra.Kube.Client;

/// <summary>
/// Creates a <see cref="KubeApiClient"/> from, in order: a plain <c>http(s)://host:port</c> URL (the
/// local API server; no credentials), a kubeconfig file path or a colon-separated KUBECONFIG list, or —
/// when nothing is given — the pod's in-cluster service account.
/// </summary>
public static class KubeApiClientFactory
{
    public static KubeApiClient Create(
        string? kubeconfigPath,
        KubeApiClientOptions? options = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null)
    {
        var settings = LoadSettings(kubeconfigPath, timeProvider);
        return Create(settings, options, timeProvider, loggerFactory);
    }

    /// <summary>Reads the connection settings the way <see cref="Create(string?, KubeApiClientOptions?, TimeProvider?, ILoggerFactory?)"/> would.</summary>
    public static KubeConnectionSettings LoadSettings(string? kubeconfigPath, TimeProvider? timeProvider = null)
    {
        if (string.IsNullOrWhiteSpace(kubeconfigPath))
        {
            return InClusterConfig.Load(timeProvider: timeProvider);
        }

        if ((kubeconfigPath.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || kubeconfigPath.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            && Uri.TryCreate(kubeconfigPath, UriKind.Absolute, out var server))
        {
            return new KubeConnectionSettings { Server = server, Source = $"server URL {server}" };
        }

        // KUBECONFIG=a:b:c is a list merged with kubectl's rules; a single path must exist, as with kubectl --kubeconfig.
        return kubeconfigPath.Contains(Path.PathSeparator, StringComparison.Ordinal)
            ? KubeconfigLoader.LoadMerged(kubeconfigPath.Split(Path.PathSeparator), timeProvider: timeProvider)
            : KubeconfigLoader.Load(kubeconfigPath, timeProvider: timeProvider);
    }

    /// <summary>The client owns the handler it builds; the certificates and token source in <paramref name="settings"/> are used for the client's lifetime, so dispose the settings only after the client.</summary>
    public static KubeApiClient Create(
        KubeConnectionSettings settings,
        KubeApiClientOptions? options = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var handler = KubeHttpHandlerFactory.Create(settings);
        var http = new HttpClient(handler, disposeHandler: true);
        return new KubeApiClient(
            http,
            settings.Server,
            options,
            settings.TokenSource,
            timeProvider,
            loggerFactory?.CreateLogger<KubeApiClient>(),
            ownsHttpClient: true);
    }
}
