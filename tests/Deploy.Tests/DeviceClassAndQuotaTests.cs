using SecureDra.Api;
using SecureDra.Api.Validation;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>DeviceClasses pin zeroing with a complete GpuConfig; tenants are quota'd.</summary>
[Collection(ChartCollection.Name)]
public sealed class DeviceClassAndQuotaTests(RenderedChart chart)
{
    [Fact]
    public void The_one_class_pins_zero_vram_on_release_in_a_complete_gpu_config_the_decoder_accepts()
    {
        // Issue 10 item 7: no time-sliced class any more (sharing was validated and never applied), and
        // every parameter the class ships is one the strict decoder accepts.
        var c = chart.Single("DeviceClass");
        Assert.Equal("securedra-gpu-exclusive", c.Str("metadata.name"));
        Assert.Equal("resource.k8s.io/v1", c.Str("apiVersion"));
        var config = Assert.Single(c.Items("spec.config"));
        Assert.Equal(DriverConstants.DefaultDriverName, config.Str("opaque.driver"));
        var p = config.At("opaque.parameters")!;
        Assert.Equal(["apiVersion", "kind", "resetPolicy"], p.AsObject().Select(kv => kv.Key).Order());
        Assert.Equal(DriverConstants.ConfigApiVersion, p.Str("apiVersion"));
        Assert.Equal(DriverConstants.GpuConfigKind, p.Str("kind"));
        // The seed's own check: kubectl get deviceclass ... {.spec.config[0].opaque.parameters.resetPolicy}
        Assert.Equal(DriverConstants.ZeroVramOnRelease, p.Str("resetPolicy"));
        var decoded = new GpuConfigValidator(new GpuConfigLimits()).Decode(System.Text.Encoding.UTF8.GetBytes(p.ToJsonString()), "parameters", ConfigOrigin.DeviceClass);
        Assert.True(decoded.IsValid, string.Join("; ", decoded.Errors));
    }

    [Fact]
    public void The_removed_time_sliced_class_cannot_be_switched_back_on()
    {
        var r = Tool.Run(RepoPaths.Helm, ["template", "securedra", RepoPaths.Chart, "--namespace", RenderedChart.Namespace, "--set", "deviceClasses.timeSliced.enabled=true"]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("timeSliced", r.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void The_claim_policies_approve_exactly_the_charts_classes()
    {
        foreach (var p in chart.OfKind("ValidatingAdmissionPolicy").Where(p => p.Str("metadata.name").StartsWith("securedra-claims-", StringComparison.Ordinal)))
        {
            var approved = p.Items("spec.variables").Single(v => v.Str("name") == "approvedClasses").Str("expression");
            Assert.Equal("['securedra-gpu-exclusive']", approved);
        }
    }

    [Fact]
    public void Tenant_namespaces_have_a_quota_on_claims_and_templates()
    {
        var quota = chart.Single("ResourceQuota");
        Assert.Equal("tenant-a", quota.Str("metadata.namespace"));
        var hard = quota.At("spec.hard")!.AsObject();
        Assert.Equal("20", (string?)hard["count/resourceclaims.resource.k8s.io"]);
        Assert.Equal("5", (string?)hard["count/resourceclaimtemplates.resource.k8s.io"]);
    }
}
