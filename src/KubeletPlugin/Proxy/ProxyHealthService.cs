using Grpc.Core;
using Microsoft.Extensions.Hosting;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Health;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Protocol.Health.V1Alpha1;
using ProtoHealthStatus = SecureDra.Protocol.Health.V1Alpha1.HealthStatus;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>
/// The health stream the kubelet gets in proxy mode, keyed by the vendor's devices (the kubelet matches health to
/// claims by pool and device name from the vendor's slices). Each vendor device of this node that maps to a GPU gets the
/// proxy's own status for that GPU (<see cref="DeviceHealthTracker"/>: Xid events, scrub problems) merged with the
/// vendor's report when the vendor serves one: the proxy's Unhealthy wins, otherwise the vendor's report, otherwise the
/// proxy's. Sent in full right away, on every change and every resend interval.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ProxyHealthService(
    DeviceHealthTracker tracker,
    VendorHealthWatcher vendor,
    IResourceApi api,
    SecureDra.KubeletPlugin.Devices.DeviceInventory inventory,
    ProxyOptions options,
    KubeletPluginOptions plugin,
    HealthOptions health,
    TimeProvider time,
    IHostApplicationLifetime lifetime) : DRAResourceHealth.DRAResourceHealthBase
{
    public override async Task NodeWatchResources(NodeWatchResourcesRequest request, IServerStreamWriter<NodeWatchResourcesResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var ct = linked.Token;
        using var subscription = tracker.Subscribe();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var vendorChanged = vendor.Changed;
                await responseStream.WriteAsync(await BuildAsync(ct).ConfigureAwait(false), ct).ConfigureAwait(false);
                using var resend = CancellationTokenSource.CreateLinkedTokenSource(ct);
                resend.CancelAfter(health.ResendInterval);
                try
                {
                    await Task.WhenAny(subscription.Changes.ReadAsync(resend.Token).AsTask(), vendorChanged.WaitAsync(resend.Token)).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    // Periodic resend.
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The kubelet closed the stream, or the proxy is stopping.
        }
    }

    /// <summary>The merged list at this moment.</summary>
    public async Task<NodeWatchResourcesResponse> BuildAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<ResourceSliceModel> slices;
        try
        {
            slices = await api.ListSlicesAsync(options.VendorDriverName, plugin.NodeName, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            slices = []; // the API server is away: send nothing rather than guesses; the kubelet keeps the last report for 30 s
        }

        var gpus = inventory.Snapshot().Devices.Select(d => d.Device).ToList();
        var reports = vendor.Reports;
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var response = new NodeWatchResourcesResponse();
        foreach (var slice in slices)
        {
            foreach (var device in slice.Devices.Take(VendorHealthWatcher.MaxDevices))
            {
                var gpu = VendorDeviceMap.Map(new AllocatedDevice(slice.PoolName, device.Name), [slice], gpus, options.VendorDriverName, out _);
                var own = gpu is null ? DeviceHealthStatus.Unknown : tracker.GpuStatus(gpu.Name);
                var ownMessage = gpu is null ? "not a GPU the proxy knows on this node" : tracker.GpuMessage(gpu.Name);
                var hasReport = reports.TryGetValue((slice.PoolName, device.Name), out var report);
                var (status, message) = own == DeviceHealthStatus.Unhealthy
                    ? (ProtoHealthStatus.Unhealthy, "securedra: " + ownMessage)
                    : hasReport
                        ? (report.Status, report.Message)
                        : (own == DeviceHealthStatus.Healthy ? ProtoHealthStatus.Healthy : ProtoHealthStatus.Unknown, ownMessage);
                response.Devices.Add(new SecureDra.Protocol.Health.V1Alpha1.DeviceHealth
                {
                    Device = new DeviceIdentifier { PoolName = slice.PoolName, DeviceName = device.Name },
                    Health = status,
                    LastUpdatedTime = now,
                    HealthCheckTimeoutSeconds = health.HealthCheckTimeoutSeconds,
                    Message = DraResourceHealthService.Truncate(message ?? ""),
                });
            }
        }

        return response;
    }
}
