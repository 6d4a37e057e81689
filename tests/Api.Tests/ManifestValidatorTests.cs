using System.Text;
using SecureDra.Api.Manifests;
using SecureDra.Api.Validation;

namespace SecureDra.Api.Tests;

public class ManifestValidatorTests
{
    private static ManifestValidator Create(ConfigOrigin rawOrigin = ConfigOrigin.Claim) =>
        new(new ManifestReader(),
            new ResourceObjectValidator(new GpuConfigValidator(new GpuConfigLimits()), "gpu.nvidia.com"),
            rawOrigin);

    private static ManifestValidationResult Validate(string text, ManifestValidator? validator = null) =>
        (validator ?? Create()).Validate(Encoding.UTF8.GetBytes(text));

    private const string SeedClass = """
        apiVersion: resource.k8s.io/v1
        kind: DeviceClass
        metadata:
          name: nvidia-gpu-shared
        spec:
          selectors:
          - cel:
              expression: "device.driver == 'gpu.nvidia.com'"
          config:
          - opaque:
              driver: gpu.nvidia.com
              parameters:
                apiVersion: resource.securedra.io/v1alpha1
                kind: GpuConfig
                resetPolicy: "ZeroVRAMOnRelease"
        """;

    [Fact]
    public void Seed_device_class_yaml_is_clean()
    {
        var result = Validate(SeedClass);
        Assert.True(result.IsValid, string.Join(" | ", result.Errors));
        Assert.Equal(1, result.Checked);
    }

    [Fact]
    public void Seed_time_sliced_device_class_yaml_is_rejected_naming_the_removed_fields()
    {
        var result = Validate(SeedClass.Replace("resetPolicy: \"ZeroVRAMOnRelease\"", "resetPolicy: \"ZeroVRAMOnRelease\"\n        sharingStrategy: \"TimeSlicing\"\n        sharingTimeSliceMs: 100", StringComparison.Ordinal));
        Assert.Equal(
            ["spec.config[0].opaque.parameters.sharingStrategy", "spec.config[0].opaque.parameters.sharingTimeSliceMs"],
            result.Errors.Select(e => e.Path));
        Assert.All(result.Errors, e => Assert.StartsWith("unknown field (removed: GPU sharing was never applied", e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Seed_device_class_yaml_as_written_in_the_seed_names_the_missing_fields() =>
        Assert.Equal(
            [
                "spec.config[0].opaque.parameters.apiVersion: required; must be resource.securedra.io/v1alpha1",
                "spec.config[0].opaque.parameters.kind: required; must be GpuConfig",
            ],
            Validate(SeedClass.Replace("        apiVersion: resource.securedra.io/v1alpha1\n        kind: GpuConfig\n", "", StringComparison.Ordinal))
                .Errors.Select(e => e.ToString()));

    [Fact]
    public void Multi_document_files_prefix_paths_and_skip_other_kinds()
    {
        var result = Validate("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: x}
            ---
            apiVersion: resource.k8s.io/v1beta1
            kind: ResourceClaimTemplate
            metadata: {name: t}
            spec:
              spec:
                devices:
                  requests: [{name: gpu, deviceClassName: nvidia-gpu-shared}]
                  config:
                  - opaque:
                      driver: gpu.nvidia.com
                      parameters: {apiVersion: resource.securedra.io/v1alpha1, kind: GpuConfig, resetPolicy: None}
            """);
        Assert.Equal(1, result.Checked);
        Assert.Equal(1, result.Skipped);
        Assert.Equal(
            ["document[1].spec.spec.devices.config[0].opaque.parameters.resetPolicy: None is not allowed in a claim; a claim may only set ZeroVRAMOnRelease"],
            result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Yaml_floats_and_strings_reach_the_strict_decoder_as_written()
    {
        var result = Validate(SeedClass.Replace("resetPolicy: \"ZeroVRAMOnRelease\"", "resetPolicy: 100.0", StringComparison.Ordinal));
        Assert.Equal("spec.config[0].opaque.parameters.resetPolicy: must be a string, got a number", Assert.Single(result.Errors).ToString());
        result = Validate(SeedClass.Replace("resetPolicy: \"ZeroVRAMOnRelease\"", "resetPolicy: \"100\"", StringComparison.Ordinal));
        Assert.Equal("spec.config[0].opaque.parameters.resetPolicy: \"100\" is not supported; the only reset policy is ZeroVRAMOnRelease", Assert.Single(result.Errors).ToString());
        result = Validate(SeedClass.Replace("resetPolicy: \"ZeroVRAMOnRelease\"", "resetPolicy: .nan", StringComparison.Ordinal));
        Assert.Contains("JSON has no NaN or Infinity", Assert.Single(result.Errors).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Raw_json_config_is_decoded_from_its_original_bytes()
    {
        Assert.True(Validate("""{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig"}""").IsValid);
        Assert.StartsWith(
            "sharingTimeSliceMs: unknown field (removed: GPU sharing was never applied",
            Assert.Single(Validate("""{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","sharingTimeSliceMs":5}""").Errors).ToString(),
            StringComparison.Ordinal);
        Assert.Equal(2, Validate("""{"resetPolicy":"ZeroVRAMOnRelease"}""").Errors.Count);
    }

    [Fact]
    public void Raw_config_origin_is_configurable()
    {
        const string json = """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"None"}""";
        Assert.Contains("not allowed in a claim", Assert.Single(Validate(json).Errors).Message, StringComparison.Ordinal);
        Assert.Contains("no DeviceClass can turn off the VRAM scrub", Assert.Single(Validate(json, Create(rawOrigin: ConfigOrigin.DeviceClass)).Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_errors_are_violations()
    {
        var result = Validate("a: 1\na: 2\n");
        Assert.Equal("document[0].a: duplicate key (line 2); each key may appear at most once", Assert.Single(result.Errors).ToString());
        Assert.Equal(0, result.Checked);
    }

    [Fact]
    public async Task Validate_file_async_reads_from_disk()
    {
        var path = Path.Combine(Path.GetTempPath(), $"securedra-validate-{Guid.NewGuid():N}.yaml");
        try
        {
            await File.WriteAllTextAsync(path, SeedClass);
            Assert.True((await Create().ValidateFileAsync(path, CancellationToken.None)).IsValid);
            await Assert.ThrowsAsync<FileNotFoundException>(() => Create().ValidateFileAsync(path + ".missing", CancellationToken.None));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
