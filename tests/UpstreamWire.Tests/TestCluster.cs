using System.Text.Json.Nodes;
using SecureDra.Kube.Client;

namespace SecureDra.UpstreamWire.Tests;

/// <summary>What the scheduler and a tenant leave in the API server before the kubelet calls the plugin: a node, a namespace, a DeviceClass and an allocated claim.</summary>
internal sealed class TestCluster(IKubeApiClient api, string driverName, string nodeName)
{
    private static readonly KubeResource Claims = KubeResource.ResourceClaims("v1");

    private const string GpuConfig = """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"ZeroVRAMOnRelease"}""";

    public async Task CreateNodeNamespaceAndClassAsync(string ns, CancellationToken ct)
    {
        await api.CreateAsync(KubeResource.Nodes, null, Parse($$$$"""{"apiVersion":"v1","kind":"Node","metadata":{"name":"{{{{nodeName}}}}","labels":{"kubernetes.io/hostname":"{{{{nodeName}}}}"}}}"""), ct);
        await api.CreateAsync(KubeResource.Namespaces, null, Parse($$$$"""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"{{{{ns}}}}"}}"""), ct);
        await api.CreateAsync(KubeResource.DeviceClasses("v1"), null, Parse($$$$"""
            {"apiVersion":"resource.k8s.io/v1","kind":"DeviceClass","metadata":{"name":"{{{{driverName}}}}"},
             "spec":{"selectors":[{"cel":{"expression":"device.driver == '{{{{driverName}}}}'"}}]}}
            """), ct);
    }

    /// <summary>Creates a one-GPU claim and writes its allocation of <paramref name="device"/> through /status, as the scheduler does.</summary>
    public async Task<string> CreateAllocatedClaimAsync(string ns, string name, string device, CancellationToken ct)
    {
        var created = await api.CreateAsync(Claims, ns, Parse($$$$"""
            {"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim","metadata":{"name":"{{{{name}}}}","namespace":"{{{{ns}}}}"},
             "spec":{"devices":{"requests":[{"name":"gpu","exactly":{"deviceClassName":"{{{{driverName}}}}"}}],
                                "config":[{"requests":["gpu"],"opaque":{"driver":"{{{{driverName}}}}","parameters":{{{{GpuConfig}}}}}}]}}}
            """), ct);
        var uid = created["metadata"]!["uid"]!.GetValue<string>();
        created["status"] = Parse($$$$"""
            {"allocation":{"devices":{
                "results":[{"request":"gpu","driver":"{{{{driverName}}}}","pool":"{{{{nodeName}}}}","device":"{{{{device}}}}"}],
                "config":[{"source":"FromClaim","requests":["gpu"],"opaque":{"driver":"{{{{driverName}}}}","parameters":{{{{GpuConfig}}}}}}]},
              "nodeSelector":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["{{{{nodeName}}}}"]}]}]}},
             "reservedFor":[{"resource":"pods","name":"{{{{name}}}}-pod","uid":"{{{{Guid.NewGuid()}}}}"}]}
            """);
        await api.UpdateAsync(Claims, ns, name, created, ct, subresource: "status");
        return uid;
    }

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();
}
