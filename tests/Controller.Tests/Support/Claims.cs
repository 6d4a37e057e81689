using System.Text.Json.Nodes;

namespace SecureDra.Controller.Tests.Support;

/// <summary>ResourceClaims, templates and AdmissionReviews in the wire shapes of v1, v1beta2 and v1beta1.</summary>
internal static class Claims
{
    public const string Driver = "gpu.nvidia.com";

    public static string ValidParameters => """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"ZeroVRAMOnRelease"}""";

    /// <summary>A claim spec (the value of spec, or of spec.spec for templates) with one config whose parameters are raw JSON text.</summary>
    public static string ClaimSpec(string version, string parametersJson, string driver = Driver)
    {
        var request = version == "v1beta1"
            ? """{"name":"gpu","deviceClassName":"securedra-gpu-exclusive"}"""
            : """{"name":"gpu","exactly":{"deviceClassName":"securedra-gpu-exclusive"}}""";
        return """{"devices":{"requests":[""" + request + """],"config":[{"requests":["gpu"],"opaque":{"driver":""" + "\"" + driver + "\"" + ""","parameters":""" + parametersJson + "}}]}}";
    }

    public static string Claim(string version, string parametersJson, string driver = Driver) =>
        "{\"apiVersion\":\"resource.k8s.io/" + version + "\",\"kind\":\"ResourceClaim\",\"metadata\":{\"name\":\"claim-a\",\"namespace\":\"tenant-a\"},\"spec\":" + ClaimSpec(version, parametersJson, driver) + "}";

    public static string Template(string version, string parametersJson, string driver = Driver) =>
        "{\"apiVersion\":\"resource.k8s.io/" + version + "\",\"kind\":\"ResourceClaimTemplate\",\"metadata\":{\"name\":\"template-a\",\"namespace\":\"tenant-a\"},\"spec\":{\"spec\":" + ClaimSpec(version, parametersJson, driver) + "}}";

    /// <summary>An AdmissionReview v1 with the object embedded as raw JSON text (duplicate keys survive).</summary>
    public static string Review(string objectJson, string version = "v1", string plural = "resourceclaims", string operation = "CREATE", string? oldObjectJson = null, string uid = "705ab4f5-6393-11e8-b7cc-42010a800002")
    {
        var kind = plural == "resourceclaims" ? "ResourceClaim" : "ResourceClaimTemplate";
        var gvk = "{\"group\":\"resource.k8s.io\",\"version\":\"" + version + "\",\"kind\":\"" + kind + "\"}";
        var gvr = "{\"group\":\"resource.k8s.io\",\"version\":\"" + version + "\",\"resource\":\"" + plural + "\"}";
        return "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
            + "\"uid\":\"" + uid + "\",\"kind\":" + gvk + ",\"resource\":" + gvr + ",\"requestKind\":" + gvk + ",\"requestResource\":" + gvr
            + ",\"name\":\"claim-a\",\"namespace\":\"tenant-a\",\"operation\":\"" + operation + "\""
            + ",\"userInfo\":{\"username\":\"alice\",\"groups\":[\"system:authenticated\"]}"
            + ",\"object\":" + objectJson + ",\"oldObject\":" + (oldObjectJson ?? "null") + ",\"dryRun\":false"
            + ",\"options\":{\"apiVersion\":\"meta.k8s.io/v1\",\"kind\":\"CreateOptions\"}}}";
    }

    public static JsonObject Response(string reviewJson) => (JsonNode.Parse(reviewJson)!["response"] as JsonObject)!;
}
