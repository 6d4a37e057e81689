using SecureDra.Api;
using SecureDra.Api.Config;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>DeviceClasses pin zeroing with a complete GpuConfig; tenants are quota'd.</summary>
[Collection(ChartCollection.Name)]
public sealed class DeviceClassAndQuotaTests(RenderedChart chart)
{
    [Fact]
    public void Both_classes_pin_zero_vram_on_release_in_a_complete_gpu_config()
    {
        var classes = chart.OfKind("DeviceClass");
        Assert.Equal(["securedra-gpu-exclusive", "securedra-gpu-timesliced"], classes.Select(c => c.Str("metadata.name")).Order());
        foreach (var c in classes)
        {
            Assert.Equal("resource.k8s.io/v1", c.Str("apiVersion"));
            var config = Assert.Single(c.Items("spec.config"));
            Assert.Equal(DriverConstants.DefaultDriverName, config.Str("opaque.driver"));
            var p = config.At("opaque.parameters")!;
            Assert.Equal(DriverConstants.ConfigApiVersion, p.Str("apiVersion"));
            Assert.Equal(DriverConstants.GpuConfigKind, p.Str("kind"));
            // The seed's own check: kubectl get deviceclass ... {.spec.config[0].opaque.parameters.resetPolicy}
            Assert.Equal(DriverConstants.ZeroVramOnRelease, p.Str("resetPolicy"));
            Assert.True(Enum.TryParse<SharingStrategy>(p.Str("sharingStrategy"), ignoreCase: false, out _), p.Str("sharingStrategy"));
        }

        var shared = chart.Get("DeviceClass", "securedra-gpu-timesliced").Items("spec.config").Single().At("opaque.parameters")!;
        Assert.Equal("TimeSlicing", shared.Str("sharingStrategy"));
        Assert.Equal(100, (int)shared.At("sharingTimeSliceMs")!);
        var exclusive = chart.Get("DeviceClass", "securedra-gpu-exclusive").Items("spec.config").Single().At("opaque.parameters")!;
        Assert.Equal("Exclusive", exclusive.Str("sharingStrategy"));
    }

    [Fact]
    public void The_claim_policies_approve_exactly_the_charts_classes()
    {
        foreach (var p in chart.OfKind("ValidatingAdmissionPolicy").Where(p => p.Str("metadata.name").StartsWith("securedra-claims-", StringComparison.Ordinal)))
        {
            var approved = p.Items("spec.variables").Single(v => v.Str("name") == "approvedClasses").Str("expression");
            Assert.Equal("['securedra-gpu-exclusive', 'securedra-gpu-timesliced']", approved);
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
