using Grpc.Core;
using Grpc.Net.Client;
using V1 = SecureDra.Protocol.Dra.V1;
using V1Beta1 = SecureDra.Protocol.Dra.V1Beta1;
using Health = SecureDra.Protocol.Health.V1Alpha1;

namespace SecureDra.LocalCluster.Kubelet;

/// <summary>
/// A plugin the emulated kubelet registered: one long-lived connection to its DRA endpoint, and
/// Prepare/Unprepare on the service version chosen at registration, each with the kubelet's 45 s deadline.
/// </summary>
public sealed class RegisteredDraPlugin : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly TimeSpan _callTimeout;
    private readonly TimeProvider _time;

    internal RegisteredDraPlugin(string driverName, string registrationSocket, string endpoint, string service, IReadOnlyList<string> offered, TimeSpan callTimeout, TimeProvider time)
    {
        DriverName = driverName;
        RegistrationSocket = registrationSocket;
        Endpoint = endpoint;
        Service = service;
        OfferedServices = offered;
        _callTimeout = callTimeout;
        _time = time;
        _channel = UnixSocketGrpcChannel.Create(endpoint);
    }

    public string DriverName { get; }
    public string RegistrationSocket { get; }
    public string Endpoint { get; }

    /// <summary>The registration string chosen, <c>v1.DRAPlugin</c> or <c>v1beta1.DRAPlugin</c>.</summary>
    public string Service { get; }

    /// <summary>The plugin's <c>supported_versions</c>, in its order.</summary>
    public IReadOnlyList<string> OfferedServices { get; }

    /// <summary>The raw channel to the DRA endpoint, for calls the emulator does not wrap.</summary>
    public CallInvoker CallInvoker => _channel.CreateCallInvoker();

    public async Task<IReadOnlyDictionary<string, KubeletPrepareResult>> PrepareAsync(IEnumerable<KubeletClaim> claims, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(claims);
        var deadline = Deadline();
        if (Service == KubeletProfile.V1_34.SupportedDraServices[0])
        {
            var request = new V1.NodePrepareResourcesRequest();
            request.Claims.Add(claims.Select(c => new V1.Claim { Namespace = c.Namespace, Name = c.Name, Uid = c.Uid }));
            var response = await new V1.DRAPlugin.DRAPluginClient(_channel)
                .NodePrepareResourcesAsync(request, deadline: deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
            return response.Claims.ToDictionary(
                e => e.Key,
                e => new KubeletPrepareResult(
                    [.. e.Value.Devices.Select(d => new KubeletDevice([.. d.RequestNames], d.PoolName, d.DeviceName, [.. d.CdiDeviceIds], d.HasShareId ? d.ShareId : null))],
                    e.Value.Error),
                StringComparer.Ordinal);
        }
        else
        {
            var request = new V1Beta1.NodePrepareResourcesRequest();
            request.Claims.Add(claims.Select(c => new V1Beta1.Claim { Namespace = c.Namespace, Name = c.Name, Uid = c.Uid }));
            var response = await new V1Beta1.DRAPlugin.DRAPluginClient(_channel)
                .NodePrepareResourcesAsync(request, deadline: deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
            return response.Claims.ToDictionary(
                e => e.Key,
                e => new KubeletPrepareResult(
                    [.. e.Value.Devices.Select(d => new KubeletDevice([.. d.RequestNames], d.PoolName, d.DeviceName, [.. d.CdiDeviceIds], null))],
                    e.Value.Error),
                StringComparer.Ordinal);
        }
    }

    /// <summary>Per-UID error text; empty means released.</summary>
    public async Task<IReadOnlyDictionary<string, string>> UnprepareAsync(IEnumerable<KubeletClaim> claims, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(claims);
        var deadline = Deadline();
        if (Service == KubeletProfile.V1_34.SupportedDraServices[0])
        {
            var request = new V1.NodeUnprepareResourcesRequest();
            request.Claims.Add(claims.Select(c => new V1.Claim { Namespace = c.Namespace, Name = c.Name, Uid = c.Uid }));
            var response = await new V1.DRAPlugin.DRAPluginClient(_channel)
                .NodeUnprepareResourcesAsync(request, deadline: deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
            return response.Claims.ToDictionary(e => e.Key, e => e.Value.Error, StringComparer.Ordinal);
        }
        else
        {
            var request = new V1Beta1.NodeUnprepareResourcesRequest();
            request.Claims.Add(claims.Select(c => new V1Beta1.Claim { Namespace = c.Namespace, Name = c.Name, Uid = c.Uid }));
            var response = await new V1Beta1.DRAPlugin.DRAPluginClient(_channel)
                .NodeUnprepareResourcesAsync(request, deadline: deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
            return response.Claims.ToDictionary(e => e.Key, e => e.Value.Error, StringComparer.Ordinal);
        }
    }

    /// <summary>Opens the device-health stream as the kubelet does at registration (no deadline; the caller cancels).</summary>
    public AsyncServerStreamingCall<Health.NodeWatchResourcesResponse> WatchHealth(CancellationToken cancellationToken = default) =>
        new Health.DRAResourceHealth.DRAResourceHealthClient(_channel)
            .NodeWatchResources(new Health.NodeWatchResourcesRequest(), cancellationToken: cancellationToken);

    public ValueTask DisposeAsync()
    {
        _channel.Dispose();
        return ValueTask.CompletedTask;
    }

    private DateTime Deadline() => _time.GetUtcNow().UtcDateTime.Add(_callTimeout);
}
