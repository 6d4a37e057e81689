using System.Text.Json.Nodes;
using SecureDra.Kube.Resources;

namespace SecureDra.Kube.Tests;

public sealed class ResourceClaimConverterTests
{
    public static TheoryData<ResourceApiVersion, string> Versions => new()
    {
        { ResourceApiVersion.V1, "claim-v1.json" },
        { ResourceApiVersion.V1Beta2, "claim-v1beta2.json" },
        { ResourceApiVersion.V1Beta1, "claim-v1beta1.json" },
    };

    [Theory]
    [MemberData(nameof(Versions))]
    public void Every_version_reads_to_the_same_model(ResourceApiVersion version, string golden)
    {
        _ = version;
        var claim = ResourceClaimConverter.FromJson(Golden.Object(golden));

        Assert.Equal(("team-a", "tenant-gpu", "0f6c2f3a-1111-4222-8333-444455556666", "42"), (claim.Namespace, claim.Name, claim.Uid, claim.ResourceVersion));
        Assert.Equal(3, claim.Requests.Count);
        Assert.Equal(new ClaimRequest("gpu", "gpu.nvidia.com", false, []), claim.Requests[0] with { FirstAvailable = [] });
        Assert.True(claim.Requests[1].AdminAccess);
        Assert.Null(claim.Requests[2].DeviceClassName);
        Assert.Equal([new ClaimSubRequest("big", "h100.nvidia.com"), new ClaimSubRequest("small", "gpu.nvidia.com")], claim.Requests[2].FirstAvailable);

        Assert.Equal(2, claim.Config.Count);
        Assert.Equal(["gpu"], claim.Config[0].Requests);
        Assert.Equal("gpu.nvidia.com", claim.Config[0].OpaqueDriver);
        Assert.Equal("""{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"ZeroVRAMOnRelease"}""", claim.Config[0].OpaqueParametersJson);
        Assert.Empty(claim.Config[1].Requests);
        Assert.Null(claim.Config[0].Source);

        var allocation = claim.Allocation!;
        Assert.Equal(new AllocationResult("gpu", "gpu.nvidia.com", "node-a", "gpu-0", false, null), allocation.Results[0]);
        Assert.True(allocation.Results[1].AdminAccess);
        Assert.Equal(new AllocationResult("any/small", "gpu.nvidia.com", "node-a", "gpu-2", false, "3b2a0c8e-5d4f-4e6a-9b1c-2d3e4f5a6b7c"), allocation.Results[2]);
        Assert.Equal(["FromClass", "FromClaim"], allocation.Config.Select(c => c.Source));
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void Model_to_wire_matches_the_golden_shape(ResourceApiVersion version, string golden)
    {
        var model = ResourceClaimConverter.FromJson(Golden.Object(golden));

        Golden.AssertJsonEqual(Golden.Object(golden), ResourceClaimConverter.ToJson(model, version));
    }

    [Fact]
    public void Opaque_parameters_keep_duplicate_keys_and_odd_values_as_sent()
    {
        var text = Golden.Text("claim-v1.json").Replace(
            "\"parameters\": {\"x\":1}",
            "\"parameters\": {\"resetPolicy\":\"ZeroVRAMOnRelease\",\"resetPolicy\":\"None\",\"n\":1.0e400,\"s\":\"\\u00e9\"}",
            StringComparison.Ordinal);

        var claim = ResourceClaimConverter.FromJson(JsonNode.Parse(text)!.AsObject());

        // Keys (duplicates included), order and number text survive; only whitespace and the case of \u escapes are normalized by the writer.
        Assert.Equal("""{"resetPolicy":"ZeroVRAMOnRelease","resetPolicy":"None","n":1.0e400,"s":"\u00E9"}""", claim.Config[1].OpaqueParametersJson);
    }

    [Fact]
    public void Parameters_that_cannot_be_written_back_are_a_clear_error_not_a_crash()
    {
        var text = Golden.Text("claim-v1.json").Replace("\"parameters\": {\"x\":1}", "\"parameters\": {\"s\":\"\\ud800\"}", StringComparison.Ordinal);

        // A lone surrogate escape: the writer refuses it, the claim read must turn that into a per-claim error.
        var ex = Assert.Throws<KubeObjectFormatException>(() => ResourceClaimConverter.FromJson(JsonNode.Parse(text)!.AsObject()));

        Assert.Equal("spec.devices.config[1].opaque.parameters", ex.Field);
        Assert.Contains("ResourceClaim team-a/tenant-gpu", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_structural_key_is_a_clear_error_for_that_claim()
    {
        var text = Golden.Text("claim-v1.json").Replace(
            "{ \"driver\": \"other.example.com\",",
            "{ \"driver\": \"other.example.com\", \"driver\": \"gpu.nvidia.com\",",
            StringComparison.Ordinal);

        var ex = Assert.Throws<KubeObjectFormatException>(() => ResourceClaimConverter.FromJson(JsonNode.Parse(text)!.AsObject()));

        Assert.Contains("ResourceClaim team-a/tenant-gpu", ex.Message, StringComparison.Ordinal);
        Assert.Contains("duplicate key", ex.Message, StringComparison.Ordinal);
        Assert.Equal("spec.devices.config[1].opaque", ex.Field);
    }

    [Fact]
    public void Flat_request_fields_in_v1_are_rejected_with_their_path()
    {
        var json = Golden.Object("claim-v1beta1.json");
        json["apiVersion"] = "resource.k8s.io/v1";

        var ex = Assert.Throws<KubeObjectFormatException>(() => ResourceClaimConverter.FromJson(json));

        Assert.Equal("spec.devices.requests[0].deviceClassName", ex.Field);
    }

    [Fact]
    public void Exactly_in_v1beta1_is_rejected()
    {
        var json = Golden.Object("claim-v1.json");
        json["apiVersion"] = "resource.k8s.io/v1beta1";

        Assert.Equal("spec.devices.requests[0].exactly", Assert.Throws<KubeObjectFormatException>(() => ResourceClaimConverter.FromJson(json)).Field);
    }

    [Fact]
    public void Without_apiVersion_the_shape_decides()
    {
        var v1 = Golden.Object("claim-v1.json");
        v1.Remove("apiVersion");
        var beta1 = Golden.Object("claim-v1beta1.json");
        beta1.Remove("apiVersion");

        Assert.Equal("gpu.nvidia.com", ResourceClaimConverter.FromJson(v1).Requests[0].DeviceClassName);
        Assert.Equal("gpu.nvidia.com", ResourceClaimConverter.FromJson(beta1).Requests[0].DeviceClassName);
    }

    [Fact]
    public void Missing_allocation_field_names_its_path()
    {
        var json = Golden.Object("claim-v1.json");
        json["status"]!["allocation"]!["devices"]!["results"]![0]!.AsObject().Remove("device");

        var ex = Assert.Throws<KubeObjectFormatException>(() => ResourceClaimConverter.FromJson(json));

        Assert.Equal("status.allocation.devices.results[0].device", ex.Field);
    }

    [Fact]
    public void Unallocated_claim_has_no_allocation_and_unknown_version_is_refused()
    {
        var json = Golden.Object("claim-v1.json");
        json.Remove("status");
        Assert.Null(ResourceClaimConverter.FromJson(json).Allocation);

        json["apiVersion"] = "resource.k8s.io/v1alpha3";
        Assert.Equal("apiVersion", Assert.Throws<KubeObjectFormatException>(() => ResourceClaimConverter.FromJson(json)).Field);
    }
}
