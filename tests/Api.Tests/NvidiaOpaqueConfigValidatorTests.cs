using System.Text;
using SecureDra.Api.Config.Nvidia;
using SecureDra.Api.Validation;

namespace SecureDra.Api.Tests;

/// <summary>
/// The proxy's decoder for NVIDIA's config kinds: every kind and field, the shapes that crash or confuse the
/// vendor's own validation, the bounds, and the policy switches. Each rejection names the field and the limit.
/// </summary>
public class NvidiaOpaqueConfigValidatorTests
{
    private const string P = "config[0].opaque.parameters";
    private const string Api = "\"apiVersion\":\"resource.nvidia.com/v1beta1\"";
    private const string DomainId = "0f8fad5b-d9cb-469f-a165-70867728950e";

    private static readonly NvidiaOpaqueConfigValidator Validator = new(new GpuConfigLimits());
    private static readonly NvidiaConfigPolicy AllowAll = new(AllowMps: true, AllowVfio: true, AllowComputeDomain: true);

    private static NvidiaConfigDecodeResult Decode(string json, NvidiaConfigPolicy? policy = null, NvidiaOpaqueConfigValidator? validator = null) =>
        (validator ?? Validator).Decode(Encoding.UTF8.GetBytes(json), P, policy ?? NvidiaConfigPolicy.Strict);

    private static string Gpu(string sharing) => "{" + Api + ",\"kind\":\"GpuConfig\",\"sharing\":" + sharing + "}";

    private static string Mig(string sharing) => "{" + Api + ",\"kind\":\"MigDeviceConfig\",\"sharing\":" + sharing + "}";

    private static NvidiaConfig Valid(NvidiaConfigDecodeResult result)
    {
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        return result.Config!;
    }

    private static string Single(NvidiaConfigDecodeResult result)
    {
        Assert.Null(result.Config);
        return Assert.Single(result.Errors).ToString();
    }

    private static string[] All(NvidiaConfigDecodeResult result)
    {
        Assert.Null(result.Config);
        Assert.NotEmpty(result.Errors);
        return [.. result.Errors.Select(e => e.ToString())];
    }

    [Fact]
    public void PlainGpuConfigWithoutSharingIsAnExclusiveGpu()
    {
        Assert.Equal(new NvidiaConfig(NvidiaConfigKind.GpuConfig), Valid(Decode("{" + Api + ",\"kind\":\"GpuConfig\"}")));
    }

    [Theory]
    [InlineData("Default")]
    [InlineData("Short")]
    [InlineData("Medium")]
    [InlineData("Long")]
    public void TimeSlicingWithAnExplicitIntervalIsAccepted(string interval)
    {
        var config = Valid(Decode(Gpu("{\"strategy\":\"TimeSlicing\",\"timeSlicingConfig\":{\"interval\":\"" + interval + "\"}}")));
        Assert.Equal(new NvidiaSharing(NvidiaSharingStrategy.TimeSlicing, interval), config.Sharing);
    }

    [Fact]
    public void EmptyTimeSlicingConfigIsRejectedBecauseTheVendorDereferencesTheMissingInterval()
    {
        Assert.Equal(
            $"{P}.sharing.timeSlicingConfig.interval: required; must be one of Default, Short, Medium, Long",
            Single(Decode(Gpu("""{"strategy":"TimeSlicing","timeSlicingConfig":{}}"""))));
    }

    [Fact]
    public void TimeSlicingWithoutItsConfigIsRejectedRatherThanSilentlyDefaulted()
    {
        Assert.StartsWith(
            $"{P}.sharing.timeSlicingConfig: required with strategy TimeSlicing; set interval explicitly",
            Single(Decode(Gpu("""{"strategy":"TimeSlicing"}"""))));
    }

    [Theory]
    [InlineData("\"default\"")]
    [InlineData("\"\"")]
    [InlineData("\"VeryLong\"")]
    public void UnknownOrMiscasedIntervalIsRejectedNamingTheValues(string interval)
    {
        Assert.Contains(
            "is not supported; must be one of Default, Short, Medium, Long (case-sensitive)",
            Single(Decode(Gpu("{\"strategy\":\"TimeSlicing\",\"timeSlicingConfig\":{\"interval\":" + interval + "}}"))));
    }

    [Theory]
    [InlineData("{}", "sharing.strategy: required; must be one of TimeSlicing, MPS")]
    [InlineData("""{"strategy":"mps"}""", "sharing.strategy: \"mps\" is not supported; must be one of TimeSlicing, MPS (case-sensitive)")]
    [InlineData("""{"strategy":7}""", "sharing.strategy: must be a string, got a number")]
    [InlineData("null", "sharing: null is not allowed; omit the field instead")]
    [InlineData("[]", "sharing: must be an object, got an array")]
    public void MalformedSharingIsRejectedNamingTheField(string sharing, string expected)
    {
        Assert.Equal($"{P}.{expected}", Single(Decode(Gpu(sharing))));
    }

    [Fact]
    public void MpsIsRejectedByDefaultSayingItBlocksTheScrub()
    {
        var error = Single(Decode(Gpu("""{"strategy":"MPS"}""")));
        Assert.StartsWith($"{P}.sharing.strategy: MPS is not allowed by the proxy's policy (--allow-mps is off)", error);
        Assert.Contains("blocks the VRAM scrub", error);
    }

    [Fact]
    public void MpsWithEveryFieldIsDecodedWhenThePolicyAllowsIt()
    {
        var config = Valid(Decode(Gpu("""
            {"strategy":"MPS","mpsConfig":{
              "defaultActiveThreadPercentage":50,
              "defaultPinnedDeviceMemoryLimit":"10Gi",
              "defaultPerDevicePinnedMemoryLimit":{"0":"1Gi","GPU-0f8fad5b-d9cb-469f-a165-70867728950e":2147483648},
              "multiUser":true}}
            """), new NvidiaConfigPolicy(AllowMps: true)));
        var mps = config.Sharing!.Mps!;
        Assert.Equal(NvidiaSharingStrategy.Mps, config.Sharing.Strategy);
        Assert.Equal(50, mps.DefaultActiveThreadPercentage);
        Assert.Equal(10L << 30, mps.DefaultPinnedDeviceMemoryLimitBytes);
        Assert.Equal(1L << 30, mps.DefaultPerDevicePinnedMemoryLimitBytes["0"]);
        Assert.Equal(2L << 30, mps.DefaultPerDevicePinnedMemoryLimitBytes["GPU-0f8fad5b-d9cb-469f-a165-70867728950e"]);
        Assert.True(mps.MultiUser);
    }

    [Fact]
    public void MpsWithoutMpsConfigGetsTheVendorsEmptyDefaults()
    {
        var config = Valid(Decode(Gpu("""{"strategy":"MPS"}"""), new NvidiaConfigPolicy(AllowMps: true)));
        Assert.Null(config.Sharing!.Mps!.DefaultActiveThreadPercentage);
        Assert.Empty(config.Sharing.Mps.DefaultPerDevicePinnedMemoryLimitBytes);
    }

    [Theory]
    [InlineData("-1", "-1 is below the minimum 0")]
    [InlineData("101", "101 exceeds the maximum 100")]
    [InlineData("50.0", "\"50.0\" is not an integer; write a whole number from 0 to 100")]
    [InlineData("5e1", "\"5e1\" is not an integer; write a whole number from 0 to 100")]
    [InlineData("99999999999999999999999", "is not an integer")]
    [InlineData("\"50\"", "must be an integer, got a string")]
    public void ActiveThreadPercentageIsAWholeNumberFromZeroToHundred(string value, string expected)
    {
        var error = Single(Decode(Gpu("{\"strategy\":\"MPS\",\"mpsConfig\":{\"defaultActiveThreadPercentage\":" + value + "}}"), AllowAll));
        Assert.StartsWith($"{P}.sharing.mpsConfig.defaultActiveThreadPercentage: ", error);
        Assert.Contains(expected, error);
    }

    [Theory]
    [InlineData("\"1Mi\"", 1L << 20)]
    [InlineData("\"1.5Gi\"", 3L << 29)]
    [InlineData("\"2G\"", 2_000_000_000L)]
    [InlineData("\"1e9\"", 1_000_000_000L)]
    [InlineData("1048576", 1L << 20)]
    [InlineData("\"1Pi\"", 1L << 50)]
    public void PinnedMemoryLimitsAcceptEveryQuantityForm(string value, long bytes)
    {
        var config = Valid(Decode(Gpu("{\"strategy\":\"MPS\",\"mpsConfig\":{\"defaultPinnedDeviceMemoryLimit\":" + value + "}}"), AllowAll));
        Assert.Equal(bytes, config.Sharing!.Mps!.DefaultPinnedDeviceMemoryLimitBytes);
    }

    [Theory]
    [InlineData("\"1Ki\"", "is below the minimum 1048576 bytes (1Mi): the vendor rounds down to whole MiB and fails Prepare on 0")]
    [InlineData("\"0\"", "is below the minimum 1048576 bytes")]
    [InlineData("\"-1Gi\"", "is below the minimum 1048576 bytes")]
    [InlineData("\"2Pi\"", "exceeds the maximum 1125899906842624 bytes (1Pi)")]
    [InlineData("\"1e999\"", "too large to represent")]
    [InlineData("\"9e30\"", "too large to represent")]
    [InlineData("\"1 Gi\"", "is not a quantity")]
    [InlineData("\"1gi\"", "is not a quantity")]
    [InlineData("\"\"", "is an empty quantity")]
    [InlineData("true", "must be a quantity (a string such as \"1Gi\" or a number of bytes), got a boolean")]
    public void PinnedMemoryLimitsOutsideTheBoundsOrMalformedAreRejected(string value, string expected)
    {
        var error = Single(Decode(Gpu("{\"strategy\":\"MPS\",\"mpsConfig\":{\"defaultPinnedDeviceMemoryLimit\":" + value + "}}"), AllowAll));
        Assert.StartsWith($"{P}.sharing.mpsConfig.defaultPinnedDeviceMemoryLimit: ", error);
        Assert.Contains(expected, error);
    }

    [Theory]
    [InlineData("+1")]
    [InlineData("-0")]
    [InlineData("007")]
    [InlineData("64")]
    [InlineData("GPU-nothex")]
    [InlineData("gpu-0f8fad5b-d9cb-469f-a165-70867728950e")]
    public void PerDeviceLimitKeysMustBeCanonicalSelectors(string key)
    {
        var error = Single(Decode(Gpu("{\"strategy\":\"MPS\",\"mpsConfig\":{\"defaultPerDevicePinnedMemoryLimit\":{\"" + key + "\":\"1Gi\"}}}"), AllowAll));
        Assert.Contains("is not a device selector; must be a device index 0-63 without sign or leading zeros, or a GPU-/MIG- UUID", error);
    }

    [Fact]
    public void PerDeviceLimitsNamingOneUuidTwiceInDifferentCaseAreRejected()
    {
        var errors = All(Decode(Gpu("""{"strategy":"MPS","mpsConfig":{"defaultPerDevicePinnedMemoryLimit":{"GPU-0f8fad5b-d9cb-469f-a165-70867728950e":"1Gi","GPU-0F8FAD5B-D9CB-469F-A165-70867728950E":"2Gi"}}}"""), AllowAll));
        Assert.Contains(errors, e => e.EndsWith("duplicate device; each device may appear at most once", StringComparison.Ordinal));
    }

    [Fact]
    public void MultiUserMustBeABoolean()
    {
        Assert.Equal(
            $"{P}.sharing.mpsConfig.multiUser: must be a boolean, got a string",
            Single(Decode(Gpu("""{"strategy":"MPS","mpsConfig":{"multiUser":"true"}}"""), AllowAll)));
    }

    [Fact]
    public void TheOtherStrategysSettingsBesideAStrategyAreRejected()
    {
        Assert.Equal(
            $"{P}.sharing.mpsConfig: not allowed with strategy TimeSlicing; the vendor would fail the claim at Prepare",
            Single(Decode(Gpu("""{"strategy":"TimeSlicing","timeSlicingConfig":{"interval":"Short"},"mpsConfig":{}}"""), AllowAll)));
        Assert.Equal(
            $"{P}.sharing.timeSlicingConfig: not allowed with strategy MPS; the vendor would fail the claim at Prepare",
            Single(Decode(Gpu("""{"strategy":"MPS","timeSlicingConfig":{"interval":"Short"}}"""), AllowAll)));
    }

    [Fact]
    public void MigDeviceConfigWithoutSharingIsAccepted()
    {
        Assert.Equal(new NvidiaConfig(NvidiaConfigKind.MigDeviceConfig), Valid(Decode("{" + Api + ",\"kind\":\"MigDeviceConfig\"}")));
    }

    [Fact]
    public void TimeSlicingOnAMigDeviceIsRejectedBecauseItHasNoEffect()
    {
        Assert.StartsWith(
            $"{P}.sharing.strategy: TimeSlicing has no effect on MIG devices (the vendor accepts and ignores it)",
            Single(Decode(Mig("""{"strategy":"TimeSlicing"}"""), AllowAll)));
    }

    [Fact]
    public void MigDeviceConfigHasNoTimeSlicingConfigField()
    {
        var errors = All(Decode(Mig("""{"strategy":"MPS","timeSlicingConfig":{"interval":"Long"}}"""), AllowAll));
        Assert.Equal(
            $"{P}.sharing.timeSlicingConfig: unknown field (MIG devices have no time-slice settings; the vendor's strict decoder rejects this field too); the allowed fields are strategy, mpsConfig",
            Assert.Single(errors));
    }

    [Fact]
    public void MigDeviceConfigMpsFollowsThePolicy()
    {
        Assert.Contains("--allow-mps is off", Single(Decode(Mig("""{"strategy":"MPS"}"""))));
        Assert.Equal(NvidiaSharingStrategy.Mps, Valid(Decode(Mig("""{"strategy":"MPS","mpsConfig":{"defaultActiveThreadPercentage":25}}"""), AllowAll)).Sharing!.Strategy);
    }

    [Fact]
    public void VfioIsRejectedByDefaultAndDecodedWithTheVendorsDefaultsWhenAllowed()
    {
        var vfio = "{" + Api + ",\"kind\":\"VfioDeviceConfig\"}";
        Assert.StartsWith($"{P}.kind: VfioDeviceConfig is not allowed by the proxy's policy (--allow-vfio is off)", Single(Decode(vfio)));
        Assert.Equal(new NvidiaIommuConfig("LegacyOnly", false), Valid(Decode(vfio, new NvidiaConfigPolicy(AllowVfio: true))).Iommu);
        var explicitIommu = "{" + Api + ",\"kind\":\"VfioDeviceConfig\",\"iommu\":{\"backendPolicy\":\"PreferIommuFD\",\"enableAPIDevice\":true}}";
        Assert.Equal(new NvidiaIommuConfig("PreferIommuFD", true), Valid(Decode(explicitIommu, new NvidiaConfigPolicy(AllowVfio: true))).Iommu);
    }

    [Theory]
    [InlineData("""{"backendPolicy":""}""", "iommu.backendPolicy: \"\" is not supported; must be one of LegacyOnly, PreferIommuFD (case-sensitive)")]
    [InlineData("""{"enableAPIDevice":1}""", "iommu.enableAPIDevice: must be a boolean, got a number")]
    [InlineData("""{"backend":"LegacyOnly"}""", "iommu.backend: unknown field; the allowed fields are backendPolicy, enableAPIDevice")]
    public void MalformedIommuIsRejected(string iommu, string expected)
    {
        Assert.Equal($"{P}.{expected}", Single(Decode("{" + Api + ",\"kind\":\"VfioDeviceConfig\",\"iommu\":" + iommu + "}", AllowAll)));
    }

    [Fact]
    public void ComputeDomainConfigsAreRejectedByDefaultAndDecodedWhenAllowed()
    {
        var channel = "{" + Api + ",\"kind\":\"ComputeDomainChannelConfig\",\"domainID\":\"" + DomainId + "\",\"allocationMode\":\"All\"}";
        var daemon = "{" + Api + ",\"kind\":\"ComputeDomainDaemonConfig\",\"domainID\":\"" + DomainId + "\"}";
        Assert.Contains("--allow-compute-domain is off", Single(Decode(channel)));
        Assert.Contains("--allow-compute-domain is off", Single(Decode(daemon)));
        var policy = new NvidiaConfigPolicy(AllowComputeDomain: true);
        Assert.Equal(new NvidiaConfig(NvidiaConfigKind.ComputeDomainChannelConfig, DomainId: DomainId, AllocationMode: "All"), Valid(Decode(channel, policy)));
        Assert.Equal(new NvidiaConfig(NvidiaConfigKind.ComputeDomainDaemonConfig, DomainId: DomainId), Valid(Decode(daemon, policy)));
    }

    [Theory]
    [InlineData("ComputeDomainChannelConfig", "", "domainID: required; must be a UUID (the ComputeDomain's uid)")]
    [InlineData("ComputeDomainDaemonConfig", ",\"domainID\":\"\"", "domainID: \"\" is not valid; must be a UUID (the ComputeDomain's uid)")]
    [InlineData("ComputeDomainDaemonConfig", ",\"domainID\":\"../../etc\"", "domainID: \"../../etc\" is not valid; must be a UUID")]
    [InlineData("ComputeDomainChannelConfig", ",\"domainID\":\"" + DomainId + "\",\"allocationMode\":\"Many\"", "allocationMode: \"Many\" is not supported; must be one of Single, All (case-sensitive)")]
    [InlineData("ComputeDomainDaemonConfig", ",\"domainID\":\"" + DomainId + "\",\"allocationMode\":\"All\"", "allocationMode: unknown field; the allowed fields are apiVersion, kind, domainID")]
    public void MalformedComputeDomainConfigsAreRejected(string kind, string fields, string expected)
    {
        var error = Single(Decode("{" + Api + ",\"kind\":\"" + kind + "\"" + fields + "}", AllowAll));
        Assert.StartsWith($"{P}.{expected}", error);
    }

    [Theory]
    [InlineData("{\"kind\":\"GpuConfig\"}", "apiVersion: required; must be resource.nvidia.com/v1beta1")]
    [InlineData("{\"apiVersion\":\"resource.nvidia.com/v1alpha1\",\"kind\":\"GpuConfig\"}", "apiVersion: \"resource.nvidia.com/v1alpha1\" is not supported; must be resource.nvidia.com/v1beta1")]
    [InlineData("{" + Api + "}", "kind: required; must be one of GpuConfig, MigDeviceConfig, VfioDeviceConfig, ComputeDomainChannelConfig, ComputeDomainDaemonConfig")]
    [InlineData("{" + Api + ",\"kind\":\"ComputeDomain\"}", "kind: \"ComputeDomain\" is not supported; must be one of GpuConfig")]
    [InlineData("{" + Api + ",\"kind\":\"gpuconfig\"}", "kind: \"gpuconfig\" is not supported")]
    [InlineData("{" + Api + ",\"kind\":\"GpuConfig\",\"kind\":\"MigDeviceConfig\"}", "kind: duplicate key; each key may appear at most once")]
    [InlineData("{" + Api + "," + Api + ",\"kind\":\"GpuConfig\"}", "apiVersion: duplicate key; each key may appear at most once")]
    public void ApiVersionAndKindAreRequiredAndExact(string json, string expected)
    {
        Assert.StartsWith($"{P}.{expected}", All(Decode(json))[0]);
    }

    [Theory]
    [InlineData(",\"metadata\":{}", "metadata: unknown field; the allowed fields are apiVersion, kind, sharing")]
    [InlineData(",\"Sharing\":{}", "Sharing: unknown field (field names are case-sensitive; did you mean sharing?); the allowed fields are apiVersion, kind, sharing")]
    [InlineData(",\"sharing\":{\"strategy\":\"TimeSlicing\",\"timeSlicingConfig\":{\"interval\":\"Long\",\"intervalMs\":5}}", "sharing.timeSlicingConfig.intervalMs: unknown field; the allowed fields are interval")]
    [InlineData(",\"sharing\":{\"strategy\":\"TimeSlicing\",\"strategy\":\"MPS\",\"timeSlicingConfig\":{\"interval\":\"Long\"}}", "sharing.strategy: duplicate key; each key may appear at most once")]
    public void UnknownFieldsAndDuplicateKeysAreRejectedAtEveryLevel(string extra, string expected)
    {
        Assert.Equal($"{P}.{expected}", Single(Decode("{" + Api + ",\"kind\":\"GpuConfig\"" + extra + "}")));
    }

    [Fact]
    public void AnOversizedConfigIsRejectedBeforeItIsRead()
    {
        var json = "{" + Api + ",\"kind\":\"GpuConfig\",\"x\":\"" + new string('a', 20_000) + "\"}";
        Assert.Equal($"{P}: {json.Length} bytes exceeds the maximum 10240 bytes", Single(Decode(json)));
    }

    [Fact]
    public void DeepNestingIsRejectedNamingTheLimitAndThePath()
    {
        var json = "{" + Api + ",\"kind\":\"GpuConfig\",\"sharing\":" + string.Concat(Enumerable.Repeat("{\"a\":", 10)) + "1" + new string('}', 10) + "}";
        Assert.Equal($"{P}.sharing.a.a.a.a.a.a.a: nesting depth 9 exceeds the maximum 8", Single(Decode(json)));
    }

    [Fact]
    public void LongStringsManyPropertiesAndLongArraysAreRejectedNamingTheLimit()
    {
        Assert.Equal(
            $"{P}.sharing.strategy: a string of 300 bytes exceeds the maximum length 256 bytes",
            Single(Decode(Gpu("{\"strategy\":\"" + new string('M', 300) + "\"}"))));
        var many = string.Join(",", Enumerable.Range(0, 40).Select(i => $"\"k{i}\":1"));
        Assert.Equal(
            $"{P}.sharing: an object with more than 32 properties exceeds the maximum 32",
            Single(Decode(Gpu("{" + many + "}"))));
        Assert.Equal(
            $"{P}.x: an array with more than 64 items exceeds the maximum 64",
            Single(Decode("{" + Api + ",\"kind\":\"GpuConfig\",\"x\":[" + string.Join(",", Enumerable.Repeat("0", 70)) + "]}")));
    }

    [Theory]
    [InlineData("", "empty; the config must be a JSON object")]
    [InlineData("[]", "must be a JSON object, got an array")]
    [InlineData("\"GpuConfig\"", "must be a JSON object, got a string")]
    [InlineData("{\"apiVersion\":\"resource.nvidia.com/v1beta1\",}", "malformed JSON")]
    [InlineData("{} {}", "malformed JSON")]
    [InlineData("{\"a\":NaN}", "malformed JSON")]
    [InlineData("{\"a\":\"\\ud800\"}", "a string contains an escaped lone surrogate; strings must be valid Unicode")]
    public void StructurallyBrokenInputIsRejectedWithoutThrowing(string json, string expected)
    {
        Assert.Contains(expected, Single(Decode(json)));
    }

    [Fact]
    public void InvalidUtf8IsRejected()
    {
        byte[] bytes = [.. Encoding.UTF8.GetBytes("{\"kind\":\""), 0xff, .. "\"}"u8];
        var result = Validator.Decode(bytes, P, NvidiaConfigPolicy.Strict);
        Assert.Equal($"{P}: invalid UTF-8 at byte 9; the config must be valid UTF-8 text", Single(result));
    }

    [Fact]
    public void AHostileConfigProducesABoundedErrorList()
    {
        // 25 unknown fields in each of three nested objects: more errors than the cap, never more than it.
        var unknown = string.Join(",", Enumerable.Range(0, 25).Select(i => $"\"u{i}\":0"));
        var json = "{" + Api + ",\"kind\":\"GpuConfig\"," + unknown + ",\"sharing\":{\"strategy\":\"MPS\"," + unknown
            + ",\"mpsConfig\":{" + unknown + "}}}";
        var result = Decode(json);
        Assert.Null(result.Config);
        Assert.Equal(NvidiaOpaqueConfigValidator.MaxErrors, result.Errors.Count);
    }

    [Fact]
    public void ErrorsQuoteAttackerTextSafely()
    {
        var error = Single(Decode("{" + Api + ",\"kind\":\"Gpu\\nConfig\\u001b[31m\"}"));
        Assert.DoesNotContain('\n', error);
        Assert.DoesNotContain('\u001b', error);
    }

    [Fact]
    public void LowerLimitsApply()
    {
        var strict = new NvidiaOpaqueConfigValidator(new GpuConfigLimits { MaxBytes = 64 });
        var json = Gpu("""{"strategy":"TimeSlicing","timeSlicingConfig":{"interval":"Long"}}""");
        Assert.Contains("exceeds the maximum 64 bytes", Single(Decode(json, validator: strict)));
    }

    [Fact]
    public void ALimitAboveTheApiServersIsNotHonoured()
    {
        var lax = new NvidiaOpaqueConfigValidator(new GpuConfigLimits { MaxBytes = 1 << 20 });
        var json = "{" + Api + ",\"kind\":\"GpuConfig\",\"x\":\"" + new string('a', 12_000) + "\"}";
        Assert.Contains("exceeds the maximum 10240 bytes", Single(Decode(json, validator: lax)));
    }

    [Theory]
    [InlineData("{\"apiVersion\":\"resource.nvidia.com/v1beta1\",\"kind\":\"GpuConfig\"}", true)]
    [InlineData("{\"kind\":\"GpuConfig\",\"apiVersion\":\"resource.nvidia.com/v1alpha1\"}", true)]
    [InlineData("{\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"kind\":\"GpuConfig\"}", false)]
    [InlineData("{\"x\":{\"apiVersion\":\"resource.nvidia.com/v1beta1\"}}", false)]
    [InlineData("not json", false)]
    public void DeclaresNvidiaApiVersionLooksOnlyAtTheTopLevel(string json, bool expected)
    {
        Assert.Equal(expected, NvidiaOpaqueConfigValidator.DeclaresNvidiaApiVersion(Encoding.UTF8.GetBytes(json)));
    }

    [Fact]
    public void EveryKindInTheSchemaTableHasApiVersionAndKindFirst()
    {
        foreach (var (name, (kind, spec)) in NvidiaConfigSchema.Kinds)
        {
            Assert.Equal(name, kind.ToString());
            Assert.Equal(["apiVersion", "kind"], spec.Fields.Take(2).Select(f => f.Name));
        }

        Assert.Equal(Enum.GetValues<NvidiaConfigKind>().Length, NvidiaConfigSchema.Kinds.Count);
    }
}
