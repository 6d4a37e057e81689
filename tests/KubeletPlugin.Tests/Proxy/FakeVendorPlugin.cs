using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SecureDra.Protocol.Registration;
using RegistrationApi = SecureDra.Protocol.Registration.Registration;
using V1 = SecureDra.Protocol.Dra.V1;
using V1Beta1 = SecureDra.Protocol.Dra.V1Beta1;

namespace SecureDra.KubeletPlugin.Tests.Proxy;

/// <summary>What the fake vendor does on its next calls: the misbehaviour the proxy must survive.</summary>
public enum VendorScript
{
    Honest,
    ForeignDevice,
    ForeignCdiId,
    TooManyCdiIds,
    UnknownClaimUid,
    MissingClaim,
    HugeAnswer,
    Hang,
    PrepareError,
    UnprepareError,
    CrashInUnprepare,
}

/// <summary>
/// A vendor DRA kubelet plugin for the tests, on real Unix sockets: registration (GetInfo/Notify) and DRA v1 and/or
/// v1beta1, serving the devices of <see cref="Allocations"/> with NVIDIA's CDI ID shapes. Like real vendors it does not
/// scrub. <see cref="Script"/> makes it misbehave.
/// </summary>
public sealed class FakeVendorPlugin : IAsyncDisposable
{
    private WebApplication? _app;

    private FakeVendorPlugin(string registrySocket, string endpoint)
    {
        RegistrationSocket = registrySocket;
        Endpoint = endpoint;
    }

    public string RegistrationSocket { get; }
    public string Endpoint { get; }
    public string DriverName { get; set; } = "gpu.nvidia.com";
    public string Type { get; set; } = "DRAPlugin";
    public string? AnnouncedEndpoint { get; set; }
    public bool ServeV1 { get; set; } = true;

    /// <summary>Non-null: the vendor serves DRAResourceHealth and streams this list (device → status, message).</summary>
    public Dictionary<string, (SecureDra.Protocol.Health.V1Alpha1.HealthStatus Status, string Message)>? Health { get; set; }
    public VendorScript Script { get; set; } = VendorScript.Honest;

    /// <summary>Runs at the start of each Unprepare, before the vendor answers (tests look at the GPU then).</summary>
    public Action? OnUnprepare { get; set; }

    /// <summary>Claim UID → (pool, device, request) the vendor believes allocated (what it reads from the API server).</summary>
    public ConcurrentDictionary<string, (string Pool, string Device, string Request)[]> Allocations { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, int> Prepared { get; } = new(StringComparer.Ordinal);
    public ConcurrentBag<string> Unprepared { get; } = [];
    public ConcurrentQueue<(bool Registered, string Error)> Notifications { get; } = new();
    public int PrepareCalls;
    public int UnprepareCalls;

    public static async Task<FakeVendorPlugin> StartAsync(string registryDir, string pluginsDir, Action<FakeVendorPlugin>? setup = null, string name = "gpu.nvidia.com")
    {
        Directory.CreateDirectory(registryDir);
        Directory.CreateDirectory(Path.Combine(pluginsDir, name));
        var vendor = new FakeVendorPlugin(Path.Combine(registryDir, name + "-reg.sock"), Path.Combine(pluginsDir, name, "dra.sock"));
        setup?.Invoke(vendor);
        await vendor.StartAsync();
        return vendor;
    }

    public async Task StartAsync()
    {
        File.Delete(RegistrationSocket);
        File.Delete(Endpoint);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc(o => o.MaxSendMessageSize = 64 * 1024 * 1024);
        builder.Services.AddSingleton(this);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.ListenUnixSocket(Endpoint, l => l.Protocols = HttpProtocols.Http2);
            k.ListenUnixSocket(RegistrationSocket, l => l.Protocols = HttpProtocols.Http2);
        });
        var app = builder.Build();
        app.MapGrpcService<FakeRegistration>();
        app.MapGrpcService<FakeV1>();
        app.MapGrpcService<FakeV1Beta1>();
        app.MapGrpcService<FakeHealth>();
        await app.StartAsync();
        _app = app;
    }

    /// <summary>Stops serving and removes its sockets, as a crashed vendor's pod leaves the node.</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await app.StopAsync(stop.Token);
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    internal PrepareAnswer Answer(string uid)
    {
        var devices = Allocations.TryGetValue(uid, out var a) ? a : [];
        if (Script == VendorScript.PrepareError)
        {
            return new PrepareAnswer([], "vendor: device busy");
        }

        Prepared.AddOrUpdate(uid, 1, (_, n) => n + 1);
        var list = devices.Select(d => new AnswerDevice(d.Pool, d.Device, [d.Request], [$"k8s.gpu.nvidia.com/claim={uid}-{d.Device}"])).ToList();
        switch (Script)
        {
            case VendorScript.ForeignDevice:
                list.Add(new AnswerDevice(list[0].Pool, "gpu-99", list[0].Requests, [$"k8s.gpu.nvidia.com/claim={uid}-gpu-99"]));
                break;
            case VendorScript.ForeignCdiId:
                list[0] = list[0] with { Cdi = [.. list[0].Cdi, "nvidia.com/gpu=all"] };
                break;
            case VendorScript.TooManyCdiIds:
                list[0] = list[0] with { Cdi = [.. list[0].Cdi, .. Enumerable.Repeat($"gpu.nvidia.com/metadata={uid}_{list[0].Requests[0]}", 8)] };
                break;
            case VendorScript.HugeAnswer:
                list[0] = list[0] with { Cdi = [.. list[0].Cdi, new string('x', 5 * 1024 * 1024)] };
                break;
        }

        return new PrepareAnswer(list, "");
    }

    internal sealed record AnswerDevice(string Pool, string Device, string[] Requests, string[] Cdi);

    internal sealed record PrepareAnswer(List<AnswerDevice> Devices, string Error);

    internal async Task<Dictionary<string, PrepareAnswer>> PrepareAsync(IEnumerable<string> uids, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref PrepareCalls);
        if (Script == VendorScript.Hang)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        var answers = uids.ToDictionary(u => u, Answer, StringComparer.Ordinal);
        if (Script == VendorScript.UnknownClaimUid)
        {
            answers["ffffffff-0000-4000-8000-000000000000"] = new PrepareAnswer([], "");
        }

        if (Script == VendorScript.MissingClaim)
        {
            answers.Remove(answers.Keys.First());
        }

        return answers;
    }

    internal async Task<Dictionary<string, string>> UnprepareAsync(IEnumerable<string> uids, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref UnprepareCalls);
        OnUnprepare?.Invoke();
        switch (Script)
        {
            case VendorScript.Hang:
                await Task.Delay(Timeout.Infinite, cancellationToken);
                break;
            case VendorScript.CrashInUnprepare:
                _ = Task.Run(StopAsync, CancellationToken.None);
                await Task.Delay(Timeout.Infinite, cancellationToken);
                break;
            case VendorScript.UnprepareError:
                return uids.ToDictionary(u => u, _ => "vendor: MPS daemon still running", StringComparer.Ordinal);
        }

        foreach (var uid in uids)
        {
            Unprepared.Add(uid);
            Prepared.TryRemove(uid, out _);
        }

        return uids.ToDictionary(u => u, _ => "", StringComparer.Ordinal);
    }

    private sealed class FakeRegistration(FakeVendorPlugin vendor) : RegistrationApi.RegistrationBase
    {
        public override Task<PluginInfo> GetInfo(InfoRequest request, ServerCallContext context)
        {
            var info = new PluginInfo { Type = vendor.Type, Name = vendor.DriverName, Endpoint = vendor.AnnouncedEndpoint ?? vendor.Endpoint };
            if (vendor.ServeV1)
            {
                info.SupportedVersions.Add("v1.DRAPlugin");
            }

            info.SupportedVersions.Add("v1beta1.DRAPlugin");
            if (vendor.Health is not null)
            {
                info.SupportedVersions.Add("v1alpha1.DRAResourceHealth");
            }

            return Task.FromResult(info);
        }

        public override Task<RegistrationStatusResponse> NotifyRegistrationStatus(RegistrationStatus request, ServerCallContext context)
        {
            vendor.Notifications.Enqueue((request.PluginRegistered, request.Error));
            return Task.FromResult(new RegistrationStatusResponse());
        }
    }

    private sealed class FakeV1(FakeVendorPlugin vendor) : V1.DRAPlugin.DRAPluginBase
    {
        public override async Task<V1.NodePrepareResourcesResponse> NodePrepareResources(V1.NodePrepareResourcesRequest request, ServerCallContext context)
        {
            if (!vendor.ServeV1)
            {
                throw new RpcException(new Status(StatusCode.Unimplemented, "v1 not served"));
            }

            var response = new V1.NodePrepareResourcesResponse();
            foreach (var (uid, answer) in await vendor.PrepareAsync(request.Claims.Select(c => c.Uid), context.CancellationToken))
            {
                var entry = new V1.NodePrepareResourceResponse { Error = answer.Error };
                foreach (var d in answer.Devices)
                {
                    var device = new V1.Device { PoolName = d.Pool, DeviceName = d.Device };
                    device.RequestNames.Add(d.Requests);
                    device.CdiDeviceIds.Add(d.Cdi);
                    entry.Devices.Add(device);
                }

                response.Claims.Add(uid, entry);
            }

            return response;
        }

        public override async Task<V1.NodeUnprepareResourcesResponse> NodeUnprepareResources(V1.NodeUnprepareResourcesRequest request, ServerCallContext context)
        {
            var response = new V1.NodeUnprepareResourcesResponse();
            foreach (var (uid, error) in await vendor.UnprepareAsync(request.Claims.Select(c => c.Uid), context.CancellationToken))
            {
                response.Claims.Add(uid, new V1.NodeUnprepareResourceResponse { Error = error });
            }

            return response;
        }
    }

    private sealed class FakeV1Beta1(FakeVendorPlugin vendor) : V1Beta1.DRAPlugin.DRAPluginBase
    {
        public override async Task<V1Beta1.NodePrepareResourcesResponse> NodePrepareResources(V1Beta1.NodePrepareResourcesRequest request, ServerCallContext context)
        {
            var response = new V1Beta1.NodePrepareResourcesResponse();
            foreach (var (uid, answer) in await vendor.PrepareAsync(request.Claims.Select(c => c.Uid), context.CancellationToken))
            {
                var entry = new V1Beta1.NodePrepareResourceResponse { Error = answer.Error };
                foreach (var d in answer.Devices)
                {
                    var device = new V1Beta1.Device { PoolName = d.Pool, DeviceName = d.Device };
                    device.RequestNames.Add(d.Requests);
                    device.CdiDeviceIds.Add(d.Cdi);
                    entry.Devices.Add(device);
                }

                response.Claims.Add(uid, entry);
            }

            return response;
        }

        public override async Task<V1Beta1.NodeUnprepareResourcesResponse> NodeUnprepareResources(V1Beta1.NodeUnprepareResourcesRequest request, ServerCallContext context)
        {
            var response = new V1Beta1.NodeUnprepareResourcesResponse();
            foreach (var (uid, error) in await vendor.UnprepareAsync(request.Claims.Select(c => c.Uid), context.CancellationToken))
            {
                response.Claims.Add(uid, new V1Beta1.NodeUnprepareResourceResponse { Error = error });
            }

            return response;
        }
    }

    private sealed class FakeHealth(FakeVendorPlugin vendor) : SecureDra.Protocol.Health.V1Alpha1.DRAResourceHealth.DRAResourceHealthBase
    {
        public override async Task NodeWatchResources(SecureDra.Protocol.Health.V1Alpha1.NodeWatchResourcesRequest request, IServerStreamWriter<SecureDra.Protocol.Health.V1Alpha1.NodeWatchResourcesResponse> responseStream, ServerCallContext context)
        {
            var response = new SecureDra.Protocol.Health.V1Alpha1.NodeWatchResourcesResponse();
            foreach (var (device, (status, message)) in vendor.Health ?? [])
            {
                response.Devices.Add(new SecureDra.Protocol.Health.V1Alpha1.DeviceHealth
                {
                    Device = new SecureDra.Protocol.Health.V1Alpha1.DeviceIdentifier { PoolName = "node-a", DeviceName = device },
                    Health = status,
                    Message = message,
                });
            }

            await responseStream.WriteAsync(response, context.CancellationToken);
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }
    }
}
