using System.Text;
using SecureDra.Api.Config;
using SecureDra.Api.Validation;

namespace SecureDra.Api.Tests;

public class GpuConfigValidatorTests
{
    private const string Prefix = "config[1].opaque.parameters";
    private const string Head = "\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"kind\":\"GpuConfig\"";

    private static readonly GpuConfigValidator Validator = new(new GpuConfigLimits());

    private static GpuConfigDecodeResult Decode(string json, ConfigOrigin origin = ConfigOrigin.Claim, GpuConfigValidator? validator = null) =>
        (validator ?? Validator).Decode(Encoding.UTF8.GetBytes(json), Prefix, origin);

    private static string Single(GpuConfigDecodeResult result)
    {
        Assert.Null(result.Config);
        Assert.False(result.IsValid);
        return Assert.Single(result.Errors).ToString();
    }

    [Fact]
    public void SeedDeviceClassParametersValidateOnceApiVersionAndKindAreAdded()
    {
        var result = Decode("""
            {
              "apiVersion": "resource.securedra.io/v1alpha1",
              "kind": "GpuConfig",
              "resetPolicy": "ZeroVRAMOnRelease",
              "sharingStrategy": "TimeSlicing",
              "sharingTimeSliceMs": 100
            }
            """, ConfigOrigin.DeviceClass);

        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Equal(new GpuConfig(DriverConstants.ZeroVramOnRelease, SharingStrategy.TimeSlicing, 100), result.Config);
    }

    [Fact]
    public void SeedParametersWithoutApiVersionAndKindNameBothRequiredFields()
    {
        var result = Decode("""{"resetPolicy":"ZeroVRAMOnRelease","sharingStrategy":"TimeSlicing","sharingTimeSliceMs":100}""");
        Assert.Equal(
            [
                $"{Prefix}.apiVersion: required; must be resource.securedra.io/v1alpha1",
                $"{Prefix}.kind: required; must be GpuConfig",
            ],
            result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void MinimalConfigTakesDefaults()
    {
        var result = Decode("{" + Head + "}");
        Assert.True(result.IsValid);
        Assert.Equal(new GpuConfig(), result.Config);
    }

    [Fact]
    public void TimeSliceBelowMinimumNamesPathAndLimit() =>
        Assert.Equal(
            "config[1].opaque.parameters.sharingTimeSliceMs: 0 is below the minimum 1",
            Single(Decode("{" + Head + ""","sharingStrategy":"TimeSlicing","sharingTimeSliceMs":0}""")));

    [Fact]
    public void TimeSliceAboveMaximumNamesPathAndLimit() =>
        Assert.Equal(
            $"{Prefix}.sharingTimeSliceMs: 10001 is above the maximum 10000",
            Single(Decode("{" + Head + ""","sharingStrategy":"TimeSlicing","sharingTimeSliceMs":10001}""")));

    [Fact]
    public void HugeIntegerIsOutOfRangeNotACrash() =>
        Assert.Equal(
            $"{Prefix}.sharingTimeSliceMs: \"99999999999999999999999\" is above the maximum 10000",
            Single(Decode("{" + Head + ""","sharingStrategy":"TimeSlicing","sharingTimeSliceMs":99999999999999999999999}""")));

    [Fact]
    public void TimeSliceWithoutTimeSlicingIsAnError() =>
        Assert.Equal(
            $"{Prefix}.sharingTimeSliceMs: only allowed with sharingStrategy TimeSlicing, got Exclusive",
            Single(Decode("{" + Head + ""","sharingTimeSliceMs":100}""")));

    [Theory]
    [InlineData("1.0")]
    [InlineData("1e2")]
    [InlineData("100.5")]
    [InlineData("-0.0")]
    public void FloatsAreRejectedForIntegers(string number) =>
        Assert.Equal(
            $"{Prefix}.sharingTimeSliceMs: must be an integer from 1 to 10000, got \"{number}\" (no fraction or exponent)",
            Single(Decode("{" + Head + $$""","sharingStrategy":"TimeSlicing","sharingTimeSliceMs":{{number}}}""")));

    [Theory]
    [InlineData("\"100\"", "a string")]
    [InlineData("true", "a boolean")]
    [InlineData("null", "null")]
    [InlineData("[100]", "an array")]
    [InlineData("{\"ms\":100}", "an object")]
    public void WrongTypesForIntegersAreRejected(string value, string described) =>
        Assert.Equal(
            $"{Prefix}.sharingTimeSliceMs: must be an integer from 1 to 10000, got {described}",
            Single(Decode("{" + Head + $$""","sharingStrategy":"TimeSlicing","sharingTimeSliceMs":{{value}}}""")));

    [Theory]
    [InlineData("resetPolicy", "1")]
    [InlineData("sharingStrategy", "[\"Exclusive\"]")]
    [InlineData("kind", "{}")]
    public void WrongTypesForStringsAreRejected(string field, string value) =>
        Assert.StartsWith(
            $"{Prefix}.{field}: must be a string, got ",
            Assert.Single(Decode("{" + Head.Replace("\"kind\":\"GpuConfig\"", field == "kind" ? $"\"kind\":{value}" : "\"kind\":\"GpuConfig\"", StringComparison.Ordinal)
                + (field == "kind" ? "" : $",\"{field}\":{value}") + "}").Errors).ToString());

    [Fact]
    public void UnknownFieldIsRejectedAndNamed() =>
        Assert.Equal(
            $"{Prefix}.resetPolcy: unknown field; the allowed fields are apiVersion, kind, resetPolicy, sharingStrategy, sharingTimeSliceMs",
            Single(Decode("{" + Head + ""","resetPolcy":"None"}""")));

    [Fact]
    public void UnknownFieldWithHostileNameCannotForgeAPath()
    {
        var error = Single(Decode("{" + Head + ""","a.b\nc":1}"""));
        Assert.StartsWith($"{Prefix}[\"a.b?c\"]: unknown field", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AllFieldErrorsAreCollected()
    {
        var result = Decode("""{"apiVersion":"v1","kind":"GpuConfig","resetPolicy":"Sometimes","sharingStrategy":"Shared","x":1}""");
        Assert.Equal(
            [
                $"{Prefix}.apiVersion: \"v1\" is not supported; must be resource.securedra.io/v1alpha1",
                $"{Prefix}.resetPolicy: \"Sometimes\" is not one of ZeroVRAMOnRelease, None",
                $"{Prefix}.sharingStrategy: \"Shared\" is not one of Exclusive, TimeSlicing",
                $"{Prefix}.x: unknown field; the allowed fields are apiVersion, kind, resetPolicy, sharingStrategy, sharingTimeSliceMs",
            ],
            result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void TenantResetPolicyNoneIsRejected() =>
        Assert.Equal(
            $"{Prefix}.resetPolicy: None is not allowed in a claim; a claim may only set ZeroVRAMOnRelease",
            Single(Decode("{" + Head + ""","resetPolicy":"None"}""")));

    [Fact]
    public void TenantResetPolicyNoneIsRejectedEvenWhenClassOverrideIsAllowed() =>
        Assert.Contains(
            "a claim may only set ZeroVRAMOnRelease",
            Single(Decode("{" + Head + ""","resetPolicy":"None"}""", ConfigOrigin.Claim,
                new GpuConfigValidator(new GpuConfigLimits { AllowClassResetPolicyOverride = true }))),
            StringComparison.Ordinal);

    [Fact]
    public void ClassResetPolicyNoneNeedsTheOverrideFlag()
    {
        Assert.Equal(
            $"{Prefix}.resetPolicy: None is not allowed in a DeviceClass unless the driver runs with --allow-class-reset-policy-override; only ZeroVRAMOnRelease is allowed",
            Single(Decode("{" + Head + ""","resetPolicy":"None"}""", ConfigOrigin.DeviceClass)));

        var allowed = Decode("{" + Head + ""","resetPolicy":"None"}""", ConfigOrigin.DeviceClass,
            new GpuConfigValidator(new GpuConfigLimits { AllowClassResetPolicyOverride = true }));
        Assert.True(allowed.IsValid);
        Assert.Equal("None", allowed.Config!.ResetPolicy);
    }

    [Fact]
    public void EnumValuesAreCaseSensitive() =>
        Assert.Contains("is not one of ZeroVRAMOnRelease, None", Single(Decode("{" + Head + ""","resetPolicy":"zerovramonrelease"}""")), StringComparison.Ordinal);

    [Fact]
    public void OverSizeIsRejectedByLengthBeforeReading()
    {
        var limit = DriverConstants.OpaqueParametersMaxBytes;
        var bytes = new byte[limit + 1];
        bytes.AsSpan().Fill((byte)'{'); // malformed on purpose: the size check must come first
        var result = Validator.Decode(bytes, Prefix, ConfigOrigin.Claim);
        Assert.Equal($"{Prefix}: 10241 bytes exceeds the maximum 10240 bytes", Single(result));
    }

    [Fact]
    public void ExactlyTheLimitIsAccepted()
    {
        var baseJson = "{" + Head + ""","resetPolicy":"ZeroVRAMOnRelease"}""";
        var padded = baseJson.Insert(1, new string(' ', DriverConstants.OpaqueParametersMaxBytes - baseJson.Length));
        Assert.Equal(DriverConstants.OpaqueParametersMaxBytes, Encoding.UTF8.GetByteCount(padded));
        Assert.True(Decode(padded).IsValid);
    }

    [Fact]
    public void LoweredLimitApplies() =>
        Assert.Equal(
            $"{Prefix}: 66 bytes exceeds the maximum 64 bytes",
            Single(Decode("{" + Head + "}", validator: new GpuConfigValidator(new GpuConfigLimits { MaxBytes = 64 }))));

    [Fact]
    public void DuplicateKeysAreRejected() =>
        Assert.Equal(
            $"{Prefix}.resetPolicy: duplicate key; each key may appear at most once",
            Single(Decode("{" + Head + ""","resetPolicy":"ZeroVRAMOnRelease","resetPolicy":"None"}""")));

    [Fact]
    public void DuplicateKeysHiddenByEscapesAreRejected() =>
        Assert.Equal(
            $"{Prefix}.resetPolicy: duplicate key; each key may appear at most once",
            Single(Decode("{" + Head + ""","resetPolicy":"ZeroVRAMOnRelease","resetPolic\u0079":"None"}""")));

    [Fact]
    public void DeepNestingIsRejectedWithTheLimit() =>
        Assert.Equal(
            $"{Prefix}.x: nesting depth 9 exceeds the maximum 8",
            Assert.Single(Decode("{" + Head + ",\"x\":" + new string('[', 100) + new string(']', 100) + "}").Errors.Skip(1)).ToString());

    [Fact]
    public void NestingAtTheLimitIsOnlyAnUnknownField() =>
        Assert.Contains("unknown field", Single(Decode("{" + Head + ",\"x\":" + new string('[', 7) + new string(']', 7) + "}")), StringComparison.Ordinal);

    [Fact]
    public void LongStringsAreRejectedWithTheLimit() =>
        Assert.Equal(
            $"{Prefix}.resetPolicy: a string of 257 bytes exceeds the maximum length 256 bytes",
            Single(Decode("{" + Head + $",\"resetPolicy\":\"{new string('a', 257)}\"}}")));

    [Fact]
    public void LongPropertyNamesAreRejectedWithTheLimit() =>
        Assert.Equal(
            $"{Prefix}: a property name of 300 bytes exceeds the maximum length 256 bytes",
            Single(Decode("{" + Head + $",\"{new string('k', 300)}\":1}}")));

    [Fact]
    public void LongArraysAreRejectedWithTheLimit()
    {
        var result = Decode("{" + Head + ",\"x\":[" + string.Join(',', Enumerable.Repeat("1", 65)) + "]}");
        Assert.Equal($"{Prefix}.x: an array with more than 64 items exceeds the maximum 64", result.Errors[^1].ToString());
    }

    [Fact]
    public void TooManyPropertiesAreRejectedWithTheLimit()
    {
        var members = string.Join(',', Enumerable.Range(0, 40).Select(i => $"\"f{i}\":{i}"));
        var result = Decode("{" + Head + "," + members + "}");
        Assert.Equal($"{Prefix}: more than 32 properties exceeds the maximum 32", result.Errors[^1].ToString());
    }

    [Fact]
    public void TooManyPropertiesInANestedObjectAreRejected()
    {
        var members = string.Join(',', Enumerable.Range(0, 40).Select(i => $"\"f{i}\":{i}"));
        var result = Decode("{" + Head + ",\"x\":{" + members + "}}");
        Assert.Equal($"{Prefix}.x: an object with more than 32 properties exceeds the maximum 32", result.Errors[^1].ToString());
    }

    [Theory]
    [InlineData(new byte[] { 0xff })]
    [InlineData(new byte[] { 0xc3, 0x28 })]
    [InlineData(new byte[] { 0xed, 0xa0, 0x80 })] // an encoded surrogate
    [InlineData(new byte[] { 0xe2, 0x82 })] // truncated sequence
    public void InvalidUtf8IsRejected(byte[] bad)
    {
        var json = Encoding.UTF8.GetBytes("{" + Head + ",\"resetPolicy\":\"Zero").Concat(bad).Concat("\"}"u8.ToArray()).ToArray();
        var error = Single(Validator.Decode(json, Prefix, ConfigOrigin.Claim));
        Assert.Equal($"{Prefix}: invalid UTF-8 at byte 85; the config must be valid UTF-8 text", error);
    }

    [Theory]
    [InlineData("\\ud800")]
    [InlineData("\\udc00")]
    [InlineData("\\ud800\\u0041")]
    [InlineData("x\\ud83d")]
    public void LoneSurrogateEscapesAreRejected(string escaped) =>
        Assert.Equal(
            $"{Prefix}.resetPolicy: a string contains an escaped lone surrogate; strings must be valid Unicode",
            Single(Decode("{" + Head + $",\"resetPolicy\":\"{escaped}\"}}")));

    [Fact]
    public void ValidSurrogatePairEscapesAreFine() =>
        Assert.Equal(
            $"{Prefix}.resetPolicy: \"\U0001F600\" is not one of ZeroVRAMOnRelease, None",
            Single(Decode("{" + Head + ",\"resetPolicy\":\"\\ud83d\\ude00\"}")));

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("nan")]
    public void NaNAndInfinityAreRejected(string literal) =>
        Assert.StartsWith(
            $"{Prefix}: malformed JSON at line 1",
            Single(Decode("{" + Head + $",\"sharingStrategy\":\"TimeSlicing\",\"sharingTimeSliceMs\":{literal}}}")),
            StringComparison.Ordinal);

    [Fact]
    public void NaNAsAStringIsAWrongType() =>
        Assert.EndsWith(
            "must be an integer from 1 to 10000, got a string",
            Single(Decode("{" + Head + ",\"sharingStrategy\":\"TimeSlicing\",\"sharingTimeSliceMs\":\"NaN\"}")),
            StringComparison.Ordinal);

    [Theory]
    [InlineData("[]", "must be a JSON object, got an array")]
    [InlineData("\"GpuConfig\"", "must be a JSON object, got a string")]
    [InlineData("42", "must be a JSON object, got a number")]
    [InlineData("null", "must be a JSON object, got null")]
    [InlineData("", "empty; the config must be a JSON object")]
    [InlineData("   ", "empty; the config must be a JSON object")]
    public void TopLevelMustBeAnObject(string json, string message) =>
        Assert.Equal($"{Prefix}: {message}", Single(Decode(json)));

    [Theory]
    [InlineData("{\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"kind\":\"GpuConfig\",}")]
    [InlineData("{\"apiVersion\":\"resource.securedra.io/v1alpha1\" // c\n,\"kind\":\"GpuConfig\"}")]
    [InlineData("{\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"kind\":\"GpuConfig\"} {}")]
    [InlineData("{\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"kind\":\"GpuConfig\"")]
    [InlineData("{'apiVersion':'resource.securedra.io/v1alpha1'}")]
    public void MalformedJsonIsAStructuralError(string json) =>
        Assert.StartsWith($"{Prefix}: malformed JSON at line", Single(Decode(json)), StringComparison.Ordinal);

    [Fact]
    public void EmptyPrefixUsesBareFieldNames()
    {
        var result = Validator.Decode("{\"kind\":\"GpuConfig\"}"u8, "", ConfigOrigin.Claim);
        Assert.Equal("apiVersion: required; must be resource.securedra.io/v1alpha1", Assert.Single(result.Errors).ToString());
        Assert.Equal("$: must be a JSON object, got an array", Assert.Single(Validator.Decode("[]"u8, "", ConfigOrigin.Claim).Errors).ToString());
    }

    [Fact]
    public void EveryErrorNamesItsPath()
    {
        string[] inputs =
        [
            "{" + Head + ",\"sharingTimeSliceMs\":0}",
            "{" + Head + ",\"x\":{\"y\":[[[[[[[[[]]]]]]]]]}",
            "{\"resetPolicy\":\"None\",\"apiVersion\":1,\"kind\":null}",
            "[1,2]",
            new string(' ', 20000),
        ];
        foreach (var input in inputs)
        {
            var result = Decode(input);
            Assert.NotEmpty(result.Errors);
            Assert.All(result.Errors, e => Assert.StartsWith(Prefix, e.Path, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("{\"kind\":\"GpuConfig\",\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"sharingStrategy\":\"TimeSlicing\",\"sharingTimeSliceMs\":0}", "minimum 1")]
    [InlineData("{\"kind\":\"GpuConfig\",\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"sharingStrategy\":\"TimeSlicing\",\"sharingTimeSliceMs\":20000}", "maximum 10000")]
    [InlineData("{\"kind\":\"GpuConfig\",\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"x\":[[[[[[[[[[1]]]]]]]]]]}", "maximum 8")]
    [InlineData("{\"kind\":\"GpuConfig\",\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"resetPolicy\":\"None\"}", "only set ZeroVRAMOnRelease")]
    [InlineData("{\"kind\":\"GpuConfig\",\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"sharingStrategy\":\"Fair\"}", "one of Exclusive, TimeSlicing")]
    [InlineData("{\"kind\":\"GpuConfig\",\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"junk\":1}", "allowed fields are apiVersion, kind, resetPolicy, sharingStrategy, sharingTimeSliceMs")]
    [InlineData("{\"kind\":\"GpuConfig\",\"kind\":\"GpuConfig\",\"apiVersion\":\"resource.securedra.io/v1alpha1\"}", "at most once")]
    public void EveryErrorNamesItsLimit(string json, string limit)
    {
        var result = Decode(json);
        Assert.Contains(result.Errors, e => e.Message.Contains(limit, StringComparison.Ordinal) && e.Path.StartsWith(Prefix, StringComparison.Ordinal));
    }
}
