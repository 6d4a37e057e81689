using System.Text.Json.Nodes;

namespace SecureDra.Compatibility.Tests;

/// <summary>ResourceClaims as a user of each release writes them, and the allocation the scheduler writes.</summary>
public static class ClaimShapes
{
    public static JsonObject Claim(KubernetesRelease release, string name)
    {
        ArgumentNullException.ThrowIfNull(release);
        // v1beta1: request fields flat on the request; v1beta2 and v1: under "exactly".
        var request = release.FlatShape
            ? new JsonObject { ["name"] = "gpu", ["deviceClassName"] = PluginProcess.DriverName, ["allocationMode"] = "ExactCount", ["count"] = 1 }
            : new JsonObject { ["name"] = "gpu", ["exactly"] = new JsonObject { ["deviceClassName"] = PluginProcess.DriverName, ["allocationMode"] = "ExactCount", ["count"] = 1 } };
        return new JsonObject
        {
            ["apiVersion"] = $"resource.k8s.io/{release.ExpectedApiVersion}",
            ["kind"] = "ResourceClaim",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "default" },
            ["spec"] = new JsonObject
            {
                ["devices"] = new JsonObject
                {
                    ["requests"] = new JsonArray(request),
                    ["config"] = new JsonArray(Config()),
                },
            },
        };
    }

    /// <summary>status with the allocation of <paramref name="device"/> on this node's pool (same shape in every version).</summary>
    public static JsonObject Allocation(string device) => new()
    {
        ["allocation"] = new JsonObject
        {
            ["devices"] = new JsonObject
            {
                ["results"] = new JsonArray(new JsonObject
                {
                    ["request"] = "gpu",
                    ["driver"] = PluginProcess.DriverName,
                    ["pool"] = PluginProcess.NodeName,
                    ["device"] = device,
                }),
                ["config"] = new JsonArray(Config(source: "FromClaim")),
            },
        },
    };

    private static JsonObject Config(string? source = null)
    {
        var config = new JsonObject
        {
            ["requests"] = new JsonArray("gpu"),
            ["opaque"] = new JsonObject
            {
                ["driver"] = PluginProcess.DriverName,
                ["parameters"] = new JsonObject { ["apiVersion"] = "resource.securedra.io/v1alpha1", ["kind"] = "GpuConfig" },
            },
        };
        if (source is not null)
        {
            config.Insert(0, "source", source);
        }

        return config;
    }
}
