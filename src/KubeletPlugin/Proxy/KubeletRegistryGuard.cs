using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Observability.Metrics;
using SecureDra.Protocol.Registration;
using RegistrationApi = SecureDra.Protocol.Registration.Registration;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>
/// Only the proxy may be registered with the kubelet under the vendor's driver name: the kubelet routes each call to the
/// newest connected plugin of a name, so a second registration (a vendor plugin left in the kubelet's registry, or one
/// restarted with its default paths) would silently bypass the proxy. At start every other <c>*-reg.sock</c> in the
/// kubelet's registry is asked GetInfo (1 s); one answering with the same driver name stops the proxy before it
/// registers. Later scans withdraw the proxy's own registration while such a socket exists (fail closed: the pod fails
/// at Prepare instead of reaching an unguarded GPU... through the proxy; the other plugin is the operator's to remove).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class KubeletRegistryGuard(
    KubeletPluginOptions plugin,
    PluginSocketLayout layout,
    ProxyOptions options,
    MetricsRegistry metrics,
    TimeProvider time,
    ILogger<KubeletRegistryGuard> logger) : IHostedService
{
    private readonly Counter _found = metrics.Counter("securedra_proxy_rival_registrations_total", "Registrations of the proxied driver name found in the kubelet's registry besides the proxy's own.");

    /// <summary>The rival socket found by the last check, or null.</summary>
    public string? Rival { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var rival = await FindRivalAsync(cancellationToken).ConfigureAwait(false);
        if (rival is not null)
        {
            throw new KubeletPluginConfigurationException(
                $"{rival} in the kubelet's registry already registers driver {options.VendorDriverName}; two registrations of one driver route unpredictably, so the proxy will not start. Move the vendor plugin to --vendor-registry-directory-path ({options.VendorRegistryDirectory}) with its --kubelet-registrar-directory-path");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Re-checks while running; the caller withdraws the proxy's registration when this returns a rival.</summary>
    public async Task<string?> CheckAsync(CancellationToken cancellationToken)
    {
        Rival = await FindRivalAsync(cancellationToken).ConfigureAwait(false);
        return Rival;
    }

    private async Task<string?> FindRivalAsync(CancellationToken cancellationToken)
    {
        var dir = plugin.KubeletRegistrarDirectoryPath;
        if (!Directory.Exists(dir))
        {
            return null;
        }

        var candidates = Directory.EnumerateFiles(dir, "*-reg.sock", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 4, IgnoreInaccessible = true })
            .Where(p => !Path.GetFileName(p).StartsWith('.'))
            .Take(VendorRegistry.MaxRegistrationSockets);
        foreach (var path in candidates)
        {
            // A socket nobody listens on is stale: the kubelet does not register it either. One that listens but is slow
            // to answer (a loaded node, a cold start) is asked again with a longer deadline, as the kubelet retries too:
            // taking a slow rival for an absent one would let the proxy start beside it.
            if (!await VendorChannel.IsListeningAsync(path, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            using var channel = VendorChannel.Create(path, 64 * 1024);
            for (var attempt = 1; attempt <= 3; attempt++)
            {
                try
                {
                    var info = await new RegistrationApi.RegistrationClient(channel)
                        .GetInfoAsync(new InfoRequest(), deadline: time.GetUtcNow().UtcDateTime.AddSeconds(5), cancellationToken: cancellationToken)
                        .ConfigureAwait(false);

                    // The proxy's own registration, once published, answers with the proxy's DRA socket; during a rolling
                    // update (--pod-uid) the previous proxy pod answers with a socket in the same state directory.
                    if (string.Equals(info.Name, options.VendorDriverName, StringComparison.Ordinal)
                        && !string.Equals(Path.GetDirectoryName(info.Endpoint), Path.GetDirectoryName(layout.DraSocketPath), StringComparison.Ordinal))
                    {
                        _found.Inc();
                        LogRival(path, options.VendorDriverName);
                        return path;
                    }

                    break;
                }
                catch (RpcException ex) when (attempt < 3)
                {
                    LogSlowRegistration(path, ex.StatusCode.ToString(), attempt);
                }
                catch (RpcException ex)
                {
                    LogSlowRegistration(path, ex.StatusCode.ToString(), attempt);
                }
            }
        }

        return null;
    }
}
