using System.Text.Json.Nodes;
using SecureDra.Api.Validation;

namespace SecureDra.Api.Tests;

public class ResourceObjectValidatorTests
{
    private const string Good = """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"ZeroVRAMOnRelease"}""";
    private const string TenantNone = """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"None"}""";
    private const string BadSlice = """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","sharingTimeSliceMs":0}""";
    private const string RemovedField = "unknown field (removed: GPU sharing was never applied, and time-slicing would put two tenants' contexts in one GPU's memory, which nothing on a node can isolate; every claim gets whole GPUs); the allowed fields are apiVersion, kind, resetPolicy";

    private static readonly ResourceObjectValidator Validator = new(new GpuConfigValidator(new GpuConfigLimits()), "gpu.nvidia.com");

    public static TheoryData<string> Versions => new() { "resource.k8s.io/v1", "resource.k8s.io/v1beta2", "resource.k8s.io/v1beta1" };

    private static string Configs(params string[] entries) => "[" + string.Join(',', entries) + "]";

    private static string Opaque(string parameters, string driver = "gpu.nvidia.com") =>
        $$$"""{"requests":["gpu"],"opaque":{"driver":"{{{driver}}}","parameters":{{{parameters}}}}}""";

    private static JsonObject Claim(string version, string configs) => JsonNode.Parse(
        "{\"apiVersion\":\"" + version + "\",\"kind\":\"ResourceClaim\",\"metadata\":{\"name\":\"c\",\"namespace\":\"t\"},"
        + "\"spec\":{\"devices\":{\"requests\":[{\"name\":\"gpu\"}],\"config\":" + configs + "}}}")!.AsObject();

    private static JsonObject Template(string version, string configs) => JsonNode.Parse(
        "{\"apiVersion\":\"" + version + "\",\"kind\":\"ResourceClaimTemplate\",\"metadata\":{\"name\":\"c\"},"
        + "\"spec\":{\"spec\":{\"devices\":{\"requests\":[{\"name\":\"gpu\"}],\"config\":" + configs + "}}}}")!.AsObject();

    private static JsonObject Class(string version, string configs) => JsonNode.Parse(
        "{\"apiVersion\":\"" + version + "\",\"kind\":\"DeviceClass\",\"metadata\":{\"name\":\"gpu\"},"
        + "\"spec\":{\"selectors\":[{\"cel\":{\"expression\":\"device.driver == 'gpu.nvidia.com'\"}}],\"config\":" + configs + "}}")!.AsObject();

    private static string[] Errors(JsonObject o) => Validator.Validate(o).Select(e => e.ToString()).ToArray();

    [Theory]
    [MemberData(nameof(Versions))]
    public void Claim_configs_are_validated_with_object_paths(string version) =>
        Assert.Equal(
            [$"spec.devices.config[1].opaque.parameters.sharingTimeSliceMs: {RemovedField}"],
            Errors(Claim(version, Configs(Opaque(Good), Opaque(BadSlice)))));

    [Theory]
    [MemberData(nameof(Versions))]
    public void Template_configs_are_validated_at_spec_spec(string version) =>
        Assert.Equal(
            ["spec.spec.devices.config[0].opaque.parameters.resetPolicy: None is not allowed in a claim; a claim may only set ZeroVRAMOnRelease"],
            Errors(Template(version, Configs(Opaque(TenantNone)))));

    [Theory]
    [MemberData(nameof(Versions))]
    public void Class_configs_are_validated_as_device_class_origin(string version)
    {
        Assert.Equal(
            ["spec.config[0].opaque.parameters.resetPolicy: None is not supported: no DeviceClass can turn off the VRAM scrub (--allow-class-reset-policy-override was removed); only ZeroVRAMOnRelease is allowed"],
            Errors(Class(version, Configs(Opaque(TenantNone)))));
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void Seed_device_class_validates_without_the_removed_sharing_fields(string version)
    {
        Assert.Empty(Errors(Class(version, Configs(Opaque("""
            {"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"ZeroVRAMOnRelease"}
            """)))));
        Assert.Equal(
            [$"spec.config[0].opaque.parameters.sharingStrategy: {RemovedField}", $"spec.config[0].opaque.parameters.sharingTimeSliceMs: {RemovedField}"],
            Errors(Class(version, Configs(Opaque("""
                {"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"ZeroVRAMOnRelease","sharingStrategy":"TimeSlicing","sharingTimeSliceMs":100}
                """)))));
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void Other_drivers_configs_are_skipped(string version)
    {
        var configs = Configs(Opaque("""{"anything":"goes","resetPolicy":7}""", "gpu.example.com"), Opaque(BadSlice));
        Assert.Equal([$"spec.devices.config[1].opaque.parameters.sharingTimeSliceMs: {RemovedField}"], Errors(Claim(version, configs)));
        Assert.Single(Errors(Template(version, configs)));
        Assert.Single(Errors(Class(version, configs)));
    }

    [Fact]
    public void Driver_name_is_configurable()
    {
        var other = new ResourceObjectValidator(new GpuConfigValidator(new GpuConfigLimits()), "gpu.securedra.io");
        Assert.Empty(other.Validate(Claim("resource.k8s.io/v1", Configs(Opaque(BadSlice)))));
        Assert.Single(other.Validate(Claim("resource.k8s.io/v1", Configs(Opaque(BadSlice, "gpu.securedra.io")))));
    }

    [Fact]
    public void Objects_without_configs_are_clean()
    {
        Assert.Empty(Errors(JsonNode.Parse("""{"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim","spec":{"devices":{"requests":[]}}}""")!.AsObject()));
        Assert.Empty(Errors(JsonNode.Parse("""{"apiVersion":"resource.k8s.io/v1","kind":"DeviceClass"}""")!.AsObject()));
        Assert.Empty(Errors(Claim("resource.k8s.io/v1", Configs("""{"requests":["gpu"]}"""))));
    }

    [Fact]
    public void Missing_parameters_for_this_driver_are_an_error() =>
        Assert.Equal(
            ["spec.devices.config[0].opaque.parameters: required for driver gpu.nvidia.com; must be a GpuConfig object"],
            Errors(Claim("resource.k8s.io/v1", Configs("""{"opaque":{"driver":"gpu.nvidia.com"}}"""))));

    [Theory]
    [InlineData("""{"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim","spec":[]}""", "spec: must be an object, got an array")]
    [InlineData("""{"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim","spec":{"devices":"x"}}""", "spec.devices: must be an object, got a string")]
    [InlineData("""{"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim","spec":{"devices":{"config":{}}}}""", "spec.devices.config: must be an array, got an object")]
    [InlineData("""{"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim","spec":{"devices":{"config":[1]}}}""", "spec.devices.config[0]: must be an object, got a number")]
    [InlineData("""{"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim","spec":{"devices":{"config":[{"opaque":true}]}}}""", "spec.devices.config[0].opaque: must be an object, got a boolean")]
    [InlineData("""{"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim","spec":{"devices":{"config":[{"opaque":{"driver":5}}]}}}""", "spec.devices.config[0].opaque.driver: must be a string, got a number")]
    [InlineData("""{"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim","spec":{"devices":{"config":[{"opaque":{"driver":"gpu.nvidia.com","parameters":[1]}}]}}}""", "spec.devices.config[0].opaque.parameters: must be a JSON object, got an array")]
    [InlineData("""{"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim","spec":{"spec":{}}}""", null)]
    [InlineData("""{"apiVersion":"resource.k8s.io/v1alpha3","kind":"ResourceClaim"}""", "apiVersion: \"resource.k8s.io/v1alpha3\" is not one of resource.k8s.io/v1, resource.k8s.io/v1beta2, resource.k8s.io/v1beta1")]
    [InlineData("""{"apiVersion":"resource.k8s.io/v1","kind":"ResourceSlice"}""", "kind: \"ResourceSlice\" is not one of ResourceClaim, ResourceClaimTemplate, DeviceClass")]
    [InlineData("""{"kind":"ResourceClaim"}""", "apiVersion: required; must be a string")]
    [InlineData("""{"apiVersion":["resource.k8s.io/v1"],"kind":"ResourceClaim"}""", "apiVersion: must be a string, got an array")]
    public void WrongShapesAreErrorsNotExceptions(string json, string? expected)
    {
        var errors = Errors(JsonNode.Parse(json)!.AsObject());
        if (expected is null)
        {
            Assert.Empty(errors);
        }
        else
        {
            Assert.Equal([expected], errors);
        }
    }

    [Fact]
    public void More_than_32_configs_are_rejected_with_the_limit()
    {
        var configs = Configs(Enumerable.Repeat(Opaque(Good), 33).ToArray());
        Assert.Equal(["spec.devices.config: 33 entries exceed the maximum 32"], Errors(Claim("resource.k8s.io/v1", configs)));
        Assert.Empty(Errors(Claim("resource.k8s.io/v1", Configs(Enumerable.Repeat(Opaque(Good), 32).ToArray()))));
    }

    [Fact]
    public void Oversized_parameters_are_rejected_without_serializing_them_whole()
    {
        var huge = $$"""{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","pad":"{{new string('x', 1_000_000)}}"}""";
        Assert.Equal(
            ["spec.devices.config[0].opaque.parameters: more than 10240 bytes exceeds the maximum 10240 bytes"],
            Errors(Claim("resource.k8s.io/v1", Configs(Opaque(huge)))));
    }

    [Fact]
    public void Numbers_from_the_original_json_survive_the_round_trip() =>
        // 1e400 is no double: only the original bytes, not a re-serialised DOM, reach the decoder as a number.
        Assert.Equal(
            ["spec.devices.config[0].opaque.parameters.resetPolicy: must be a string, got a number"],
            Errors(Claim("resource.k8s.io/v1", Configs(Opaque("""{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":1e400}""")))));

    [Fact]
    public void Non_ascii_strings_are_measured_by_their_utf8_length()
    {
        // 100 'é' are 200 UTF-8 bytes: under the 256-byte string limit however the writer escapes them.
        var parameters = $$"""{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"{{new string('é', 100)}}"}""";
        var error = Assert.Single(Errors(Claim("resource.k8s.io/v1", Configs(Opaque(parameters)))));
        Assert.Contains("is not supported; the only reset policy is ZeroVRAMOnRelease", error, StringComparison.Ordinal);
    }
}
