using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Observability.Changes;
using SecureDra.Protocol.Health.V1Alpha1;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>
/// Follows the vendor's <c>v1alpha1.DRAResourceHealth</c> stream when its GetInfo offers it (Intel's plugin does;
/// NVIDIA's, AMD's and the example driver do not). Each response is the vendor's full list; the latest is kept, at most
/// <see cref="MaxDevices"/> entries with messages cut to 1024 characters. When the stream ends the vendor's reports are
/// dropped (its devices fall back to the proxy's own view) and the stream is opened again.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class VendorHealthWatcher(VendorRegistry registry, ProxyOptions options, TimeProvider time, ILogger<VendorHealthWatcher> logger) : BackgroundService
{
    public const int MaxDevices = 1024;

    private readonly Lock _lock = new();
    private Dictionary<(string Pool, string Device), (HealthStatus Status, string Message)> _reports = [];
    private readonly ChangeSignal _changed = new();

    /// <summary>The vendor's latest report per device; empty when it serves no health.</summary>
    public IReadOnlyDictionary<(string Pool, string Device), (HealthStatus Status, string Message)> Reports
    {
        get
        {
            lock (_lock)
            {
                return _reports;
            }
        }
    }

    /// <summary>Completes at the next change of <see cref="Reports"/>; taken before reading them, it misses none.</summary>
    public Task Changed => _changed.Next;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            if (registry.CurrentConnection is { Endpoint.ServesHealth: true } connection)
            {
                try
                {
                    using var call = connection.WatchHealth(stoppingToken);
                    LogFollowing(connection.Endpoint.EndpointPath);
                    while (await call.ResponseStream.MoveNext(stoppingToken).ConfigureAwait(false))
                    {
                        Replace(call.ResponseStream.Current);
                    }
                }
                catch (RpcException ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogStreamEnded(ex.StatusCode.ToString());
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }

                Set([]);
            }

            try
            {
                await Task.Delay(options.VendorProbeInterval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Replace(NodeWatchResourcesResponse response)
    {
        var reports = new Dictionary<(string, string), (HealthStatus, string)>();
        foreach (var device in response.Devices.Take(MaxDevices))
        {
            if (device.Device is { } id)
            {
                reports[(id.PoolName, id.DeviceName)] = (device.Health, SecureDra.KubeletPlugin.Health.DraResourceHealthService.Truncate(device.Message));
            }
        }

        Set(reports);
    }

    private void Set(Dictionary<(string, string), (HealthStatus, string)> reports)
    {
        lock (_lock)
        {
            if (reports.Count == 0 && _reports.Count == 0)
            {
                return;
            }

            _reports = reports;
        }

        _changed.Signal();
    }
}
