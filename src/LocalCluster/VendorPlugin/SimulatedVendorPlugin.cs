using System.Text.Json.Nodes;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SecureDra.Kube.Client;
using SecureDra.Protocol.Registration;
using RegistrationApi = SecureDra.Protocol.Registration.Registration;
using V1 = SecureDra.Protocol.Dra.V1;

namespace SecureDra.LocalCluster.VendorPlugin;

/// <summary>
/// A stand-in for a vendor's DRA kubelet plugin (NVIDIA's gpu-kubelet-plugin), for <c>securedra demo --mode proxy</c>:
/// it registers in a private registry directory, publishes NVIDIA-style ResourceSlices (attributes <c>uuid</c> and
/// <c>resource.kubernetes.io/pciBusID</c>), and serves DRA v1 Prepare/Unprepare with NVIDIA's CDI ID shape
/// (<c>k8s.gpu.nvidia.com/claim=&lt;uid&gt;-&lt;device&gt;</c>), reading the allocation from the API server as the real
/// one does. Like real vendors it does NOT clear GPU memory on release: that is what the proxy adds. Never used in a cluster.
/// </summary>
public sealed partial class SimulatedVendorPlugin : IAsyncDisposable
{
    public const string CdiKind = "k8s.gpu.nvidia.com/claim";

    private static readonly KubeResource Claims = KubeResource.ResourceClaims("v1");
    private static readonly KubeResource Slices = KubeResource.ResourceSlices("v1");
    private readonly SimulatedVendorPluginOptions _options;
    private readonly IKubeApiClient _api;
    private readonly ILogger _logger;
    private WebApplication? _app;

    public SimulatedVendorPlugin(SimulatedVendorPluginOptions options, IKubeApiClient api, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _api = api;
        _logger = logger;
        RegistrationSocket = Path.Combine(options.RegistryDirectory, options.DriverName + "-reg.sock");
        Endpoint = Path.Combine(options.PluginsDirectory, options.DriverName, "dra.sock");
    }

    public string RegistrationSocket { get; }

    public string Endpoint { get; }

    /// <summary>Runs after the vendor's own release of a claim, before it answers: the moment between its Unprepare and the proxy's scrub.</summary>
    public Func<string, Task>? AfterUnprepare { get; set; }

    /// <summary>Registration answers the proxy sent back (NotifyRegistrationStatus).</summary>
    public bool? Registered { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await PublishSliceAsync(cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(_options.RegistryDirectory);
        Directory.CreateDirectory(Path.GetDirectoryName(Endpoint)!);
        File.Delete(RegistrationSocket);
        File.Delete(Endpoint);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(this);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.ListenUnixSocket(Endpoint, l => l.Protocols = HttpProtocols.Http2);
            k.ListenUnixSocket(RegistrationSocket, l => l.Protocols = HttpProtocols.Http2);
        });
        var app = builder.Build();
        app.MapGrpcService<VendorRegistration>();
        app.MapGrpcService<VendorDraV1>();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _app = app;
        LogStarted(_logger, _options.DriverName, RegistrationSocket, Endpoint, _options.Gpus.Count);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private Task PublishSliceAsync(CancellationToken ct)
    {
        var devices = new JsonArray();
        foreach (var gpu in _options.Gpus)
        {
            devices.Add((JsonNode)new JsonObject
            {
                ["name"] = gpu.Name,
                ["attributes"] = new JsonObject
                {
                    ["type"] = new JsonObject { ["string"] = "gpu" },
                    ["uuid"] = new JsonObject { ["string"] = gpu.Uuid },
                    ["productName"] = new JsonObject { ["string"] = gpu.ProductName },
                    ["resource.kubernetes.io/pciBusID"] = new JsonObject { ["string"] = gpu.PciBusId.ToLowerInvariant() },
                },
                ["capacity"] = new JsonObject { ["memory"] = new JsonObject { ["value"] = gpu.Memory } },
            });
        }

        var slice = new JsonObject
        {
            ["apiVersion"] = "resource.k8s.io/v1",
            ["kind"] = "ResourceSlice",
            ["metadata"] = new JsonObject { ["generateName"] = $"{_options.NodeName}-{_options.DriverName}-vendor-" },
            ["spec"] = new JsonObject
            {
                ["driver"] = _options.DriverName,
                ["nodeName"] = _options.NodeName,
                ["pool"] = new JsonObject { ["name"] = _options.NodeName, ["generation"] = 1, ["resourceSliceCount"] = 1 },
                ["devices"] = devices,
            },
        };
        return _api.CreateAsync(Slices, null, slice, ct);
    }

    /// <summary>The claim's allocated devices of this driver on this node, read from the API server (as NVIDIA's plugin does).</summary>
    private async Task<V1.NodePrepareResourceResponse> PrepareAsync(V1.Claim claim, CancellationToken ct)
    {
        var stored = await _api.GetAsync(Claims, claim.Namespace, claim.Name, ct).ConfigureAwait(false);
        if (stored?["metadata"]?["uid"]?.GetValue<string>() != claim.Uid)
        {
            return new V1.NodePrepareResourceResponse { Error = $"claim {claim.Namespace}/{claim.Name} with UID {claim.Uid} not found" };
        }

        var response = new V1.NodePrepareResourceResponse();
        var results = stored["status"]?["allocation"]?["devices"]?["results"]?.AsArray() ?? [];
        foreach (var result in results.OfType<JsonObject>())
        {
            if (result["driver"]?.GetValue<string>() != _options.DriverName || result["pool"]?.GetValue<string>() != _options.NodeName)
            {
                continue;
            }

            var name = result["device"]!.GetValue<string>();
            var device = new V1.Device { PoolName = _options.NodeName, DeviceName = name };
            device.RequestNames.Add(result["request"]!.GetValue<string>());
            device.CdiDeviceIds.Add($"{CdiKind}={claim.Uid}-{name}");
            response.Devices.Add(device);
        }

        LogPrepared(_logger, claim.Uid, string.Join(", ", response.Devices.Select(d => d.DeviceName)));
        return response;
    }

    private async Task UnprepareAsync(V1.Claim claim)
    {
        // A real vendor tears down its sharing daemons and CDI spec here; GPU memory is left as the tenant wrote it.
        LogUnprepared(_logger, claim.Uid);
        if (AfterUnprepare is { } hook)
        {
            await hook(claim.Uid).ConfigureAwait(false);
        }
    }

    private sealed class VendorRegistration(SimulatedVendorPlugin vendor) : RegistrationApi.RegistrationBase
    {
        public override Task<PluginInfo> GetInfo(InfoRequest request, ServerCallContext context)
        {
            var info = new PluginInfo { Type = "DRAPlugin", Name = vendor._options.DriverName, Endpoint = vendor.Endpoint };
            info.SupportedVersions.Add("v1.DRAPlugin");
            return Task.FromResult(info);
        }

        public override Task<RegistrationStatusResponse> NotifyRegistrationStatus(RegistrationStatus request, ServerCallContext context)
        {
            vendor.Registered = request.PluginRegistered;
            return Task.FromResult(new RegistrationStatusResponse());
        }
    }

    private sealed class VendorDraV1(SimulatedVendorPlugin vendor) : V1.DRAPlugin.DRAPluginBase
    {
        public override async Task<V1.NodePrepareResourcesResponse> NodePrepareResources(V1.NodePrepareResourcesRequest request, ServerCallContext context)
        {
            var response = new V1.NodePrepareResourcesResponse();
            foreach (var claim in request.Claims)
            {
                response.Claims[claim.Uid] = await vendor.PrepareAsync(claim, context.CancellationToken).ConfigureAwait(false);
            }

            return response;
        }

        public override async Task<V1.NodeUnprepareResourcesResponse> NodeUnprepareResources(V1.NodeUnprepareResourcesRequest request, ServerCallContext context)
        {
            var response = new V1.NodeUnprepareResourcesResponse();
            foreach (var claim in request.Claims)
            {
                await vendor.UnprepareAsync(claim).ConfigureAwait(false);
                response.Claims[claim.Uid] = new V1.NodeUnprepareResourceResponse();
            }

            return response;
        }
    }
}
