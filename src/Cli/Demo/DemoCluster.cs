using System.Globalization;
using System.Text.Json.Nodes;
using SecureDra.Kube.Client;

namespace SecureDra.Cli.Demo;

/// <summary>
/// What the demo asks of the API server, and what a scheduler would write: the node, a
/// DeviceClass that pins ZeroVRAMOnRelease, tenant namespaces, claims, and their allocation.
/// </summary>
/// <param name="securedraConfig">False in proxy mode: the vendor owns the driver name's opaque configs (SecureDra's GpuConfig is not one of its kinds).</param>
internal sealed class DemoCluster(IKubeApiClient api, string driverName, string nodeName, bool securedraConfig = true)
{
    private static readonly KubeResource Claims = KubeResource.ResourceClaims("v1");
    private static readonly KubeResource Slices = KubeResource.ResourceSlices("v1");

    public string DeviceClassName => driverName;

    /// <summary>What every demo starts with: a client of the local API server, the node, the two tenant namespaces and the DeviceClass.</summary>
    public static async Task<(IKubeApiClient Api, DemoCluster Cluster)> CreateAsync(string baseAddress, string driverName, string nodeName, bool securedraConfig, CancellationToken ct)
    {
        var api = KubeApiClientFactory.Create(baseAddress);
        var cluster = new DemoCluster(api, driverName, nodeName, securedraConfig);
        await cluster.CreateNodeAndNamespacesAsync(["tenant-a", "tenant-b"], ct).ConfigureAwait(false);
        await cluster.CreateDeviceClassAsync(ct).ConfigureAwait(false);
        return (api, cluster);
    }

    public async Task CreateNodeAndNamespacesAsync(IEnumerable<string> namespaces, CancellationToken ct)
    {
        await api.CreateAsync(KubeResource.Nodes, null, Parse($$$$"""{"apiVersion":"v1","kind":"Node","metadata":{"name":"{{{{nodeName}}}}","labels":{"kubernetes.io/hostname":"{{{{nodeName}}}}"}}}"""), ct).ConfigureAwait(false);
        foreach (var ns in namespaces)
        {
            await api.CreateAsync(KubeResource.Namespaces, null, Parse($$$$"""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"{{{{ns}}}}"}}"""), ct).ConfigureAwait(false);
        }
    }

    public Task CreateDeviceClassAsync(CancellationToken ct) => !securedraConfig
        ? api.CreateAsync(KubeResource.DeviceClasses("v1"), null, Parse($$$$"""
            {"apiVersion":"resource.k8s.io/v1","kind":"DeviceClass","metadata":{"name":"{{{{DeviceClassName}}}}"},
             "spec":{"selectors":[{"cel":{"expression":"device.driver == '{{{{driverName}}}}'"}}]}}
            """), ct)
        : api.CreateAsync(KubeResource.DeviceClasses("v1"), null, Parse($$$$"""
            {"apiVersion":"resource.k8s.io/v1","kind":"DeviceClass","metadata":{"name":"{{{{DeviceClassName}}}}"},
             "spec":{"selectors":[{"cel":{"expression":"device.driver == '{{{{driverName}}}}'"}}],
                     "config":[{"opaque":{"driver":"{{{{driverName}}}}","parameters":{{{{ClassParameters}}}}}}]}}
            """), ct);

    /// <summary>The DeviceClass config: the platform team pins zeroing on release for every tenant.</summary>
    public static string ClassParameters => """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"ZeroVRAMOnRelease"}""";

    public static string TenantParameters => """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"ZeroVRAMOnRelease"}""";

    /// <summary>Creates a one-GPU claim, then allocates <paramref name="device"/> to it as the scheduler would (status is written through /status).</summary>
    public async Task<(string Name, string Uid)> CreateAllocatedClaimAsync(string ns, string name, string device, CancellationToken ct)
    {
        var created = !securedraConfig
            ? await api.CreateAsync(Claims, ns, Parse($$$$"""
            {"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim","metadata":{"name":"{{{{name}}}}","namespace":"{{{{ns}}}}"},
             "spec":{"devices":{"requests":[{"name":"gpu","exactly":{"deviceClassName":"{{{{DeviceClassName}}}}"}}]}}}
            """), ct).ConfigureAwait(false)
            : await api.CreateAsync(Claims, ns, Parse($$$$"""
            {"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim","metadata":{"name":"{{{{name}}}}","namespace":"{{{{ns}}}}"},
             "spec":{"devices":{"requests":[{"name":"gpu","exactly":{"deviceClassName":"{{{{DeviceClassName}}}}"}}],
                                "config":[{"requests":["gpu"],"opaque":{"driver":"{{{{driverName}}}}","parameters":{{{{TenantParameters}}}}}}]}}}
            """), ct).ConfigureAwait(false);
        var uid = created["metadata"]!["uid"]!.GetValue<string>();
        created["status"] = !securedraConfig
            ? Parse($$$$"""
            {"allocation":{"devices":{
                "results":[{"request":"gpu","driver":"{{{{driverName}}}}","pool":"{{{{nodeName}}}}","device":"{{{{device}}}}"}]},
              "nodeSelector":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["{{{{nodeName}}}}"]}]}]}},
             "reservedFor":[{"resource":"pods","name":"{{{{name}}}}-pod","uid":"{{{{Guid.NewGuid()}}}}"}]}
            """)
            : Parse($$$$"""
            {"allocation":{"devices":{
                "results":[{"request":"gpu","driver":"{{{{driverName}}}}","pool":"{{{{nodeName}}}}","device":"{{{{device}}}}"}],
                "config":[{"source":"FromClass","requests":[],"opaque":{"driver":"{{{{driverName}}}}","parameters":{{{{ClassParameters}}}}}},
                          {"source":"FromClaim","requests":["gpu"],"opaque":{"driver":"{{{{driverName}}}}","parameters":{{{{TenantParameters}}}}}}]},
              "nodeSelector":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["{{{{nodeName}}}}"]}]}]}},
             "reservedFor":[{"resource":"pods","name":"{{{{name}}}}-pod","uid":"{{{{Guid.NewGuid()}}}}"}]}
            """);
        await api.UpdateAsync(Claims, ns, name, created, ct, subresource: "status").ConfigureAwait(false);
        return (name, uid);
    }

    /// <summary>Devices in this node's published slices, in order.</summary>
    public async Task<IReadOnlyList<JsonObject>> PublishedDevicesAsync(CancellationToken ct)
    {
        var list = await api.ListAsync(Slices, null, new KubeListOptions(FieldSelector: $"spec.nodeName={nodeName},spec.driver={driverName}"), ct).ConfigureAwait(false);
        return [.. list["items"]!.AsArray()
            .SelectMany(s => s!["spec"]!["devices"]?.AsArray() ?? [])
            .OfType<JsonObject>()
            .OrderBy(d => d["name"]!.GetValue<string>(), StringComparer.Ordinal)];
    }

    /// <summary>The newest Event with <paramref name="reason"/> on this node, if any.</summary>
    public async Task<string?> LatestNodeEventMessageAsync(string reason, CancellationToken ct)
    {
        var list = await api.ListAsync(KubeResource.Events, "default", null, ct).ConfigureAwait(false);
        return list["items"]!.AsArray()
            .OfType<JsonObject>()
            .Where(e => e["reason"]?.GetValue<string>() == reason && e["involvedObject"]?["name"]?.GetValue<string>() == nodeName)
            .Select(e => e["message"]?.GetValue<string>())
            .LastOrDefault();
    }

    public static string Attribute(JsonObject device, string name)
    {
        var value = device["attributes"]?[name] as JsonObject;
        var v = value?.FirstOrDefault().Value;
        return v switch
        {
            null => "",
            JsonValue jv when jv.TryGetValue<long>(out var l) => l.ToString(CultureInfo.InvariantCulture),
            _ => v.ToString(),
        };
    }

    public static string Capacity(JsonObject device, string name) => device["capacity"]?[name]?["value"]?.ToString() ?? "";

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();
}
