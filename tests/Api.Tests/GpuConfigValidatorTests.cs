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

    private const string Removed = "unknown field (removed: GPU sharing was never applied, and time-slicing would put two tenants' contexts in one GPU's memory, which nothing on a node can isolate; every claim gets whole GPUs); the allowed fields are apiVersion, kind, resetPolicy";

    [Fact]
    public void Seed_device_class_parameters_with_sharing_fields_are_rejected_naming_each_removed_field()
    {
        // Issue 10 item 7: the seed's time-sliced class was validated and never applied. Its fields are gone,
        // and the error says why, so the platform team learns it never had time-slicing.
        var result = Decode("""
            {
              "apiVersion": "resource.securedra.io/v1alpha1",
              "kind": "GpuConfig",
              "resetPolicy": "ZeroVRAMOnRelease",
              "sharingStrategy": "TimeSlicing",
              "sharingTimeSliceMs": 100
            }
            """, ConfigOrigin.DeviceClass);

        Assert.Null(result.Config);
        Assert.Equal(
            [$"{Prefix}.sharingStrategy: {Removed}", $"{Prefix}.sharingTimeSliceMs: {Removed}"],
            result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Seed_device_class_parameters_validate_once_api_version_and_kind_are_added_and_sharing_removed()
    {
        var result = Decode("{" + Head + ""","resetPolicy":"ZeroVRAMOnRelease"}""", ConfigOrigin.DeviceClass);
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Equal(new GpuConfig(DriverConstants.ZeroVramOnRelease), result.Config);
    }

    [Fact]
    public void Seed_parameters_without_api_version_and_kind_name_both_required_fields()
    {
        var result = Decode("""{"resetPolicy":"ZeroVRAMOnRelease"}""");
        Assert.Equal(
            [
                $"{Prefix}.apiVersion: required; must be resource.securedra.io/v1alpha1",
                $"{Prefix}.kind: required; must be GpuConfig",
            ],
            result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Every_row_of_the_schema_table_is_decoded_and_checked()
    {
        // One table drives decoding and validation: a row's wrong value, its absence (when required) and its
        // duplicate are each reported under its name, and the allowed-fields message lists exactly the table.
        var valid = GpuConfigSchema.Table.ToDictionary(f => f.Name, f => f.Value);
        Assert.True(Decode(Json(valid)).IsValid);
        Assert.Equal(string.Join(", ", GpuConfigSchema.Table.Select(f => f.Name)), GpuConfigSchema.AllowedFields);
        foreach (var field in GpuConfigSchema.Table)
        {
            var wrong = new Dictionary<string, string>(valid) { [field.Name] = "Nope" };
            Assert.Equal($"{Prefix}.{field.Name}: \"Nope\" is not supported; {field.Expectation}", Single(Decode(Json(wrong))));

            var without = valid.Where(p => p.Key != field.Name).ToDictionary(p => p.Key, p => p.Value);
            var missing = Decode(Json(without));
            if (field.Required)
            {
                Assert.Equal($"{Prefix}.{field.Name}: required; {field.Expectation}", Single(missing));
            }
            else
            {
                Assert.True(missing.IsValid);
            }

            var twice = "{" + string.Join(",", valid.Select(p => $"\"{p.Key}\":\"{p.Value}\"")) + $",\"{field.Name}\":\"{field.Value}\"}}";
            Assert.Equal($"{Prefix}.{field.Name}: duplicate key; each key may appear at most once", Single(Decode(twice)));
        }

        static string Json(Dictionary<string, string> fields) => "{" + string.Join(",", fields.Select(p => $"\"{p.Key}\":\"{p.Value}\"")) + "}";
    }

    [Fact]
    public void Minimal_config_takes_defaults()
    {
        var result = Decode("{" + Head + "}");
        Assert.True(result.IsValid);
        Assert.Equal(new GpuConfig(), result.Config);
        Assert.Equal(DriverConstants.ZeroVramOnRelease, result.Config!.ResetPolicy);
    }

    [Theory]
    [InlineData("sharingStrategy", "\"Exclusive\"")]
    [InlineData("sharingStrategy", "\"TimeSlicing\"")]
    [InlineData("sharingTimeSliceMs", "100")]
    [InlineData("sharingTimeSliceMs", "0")]
    [InlineData("sharingTimeSliceMs", "99999999999999999999999")]
    [InlineData("sharingTimeSliceMs", "1e400")]
    [InlineData("sharingTimeSliceMs", "\"100\"")]
    [InlineData("sharingTimeSliceMs", "null")]
    [InlineData("sharingTimeSliceMs", "{\"ms\":[100]}")]
    public void RemovedSharingFieldsAreUnknownWhateverTheirValueAndTheErrorSaysWhy(string field, string value) =>
        Assert.Equal(
            $"{Prefix}.{field}: {Removed}",
            Single(Decode("{" + Head + $",\"{field}\":{value}}}", ConfigOrigin.DeviceClass)));

    [Theory]
    [InlineData("resetPolicy", "1")]
    [InlineData("resetPolicy", "[\"ZeroVRAMOnRelease\"]")]
    [InlineData("kind", "{}")]
    public void WrongTypesForStringsAreRejected(string field, string value) =>
        Assert.StartsWith(
            $"{Prefix}.{field}: must be a string, got ",
            Assert.Single(Decode("{" + Head.Replace("\"kind\":\"GpuConfig\"", field == "kind" ? $"\"kind\":{value}" : "\"kind\":\"GpuConfig\"", StringComparison.Ordinal)
                + (field == "kind" ? "" : $",\"{field}\":{value}") + "}").Errors).ToString());

    [Fact]
    public void Unknown_field_is_rejected_and_named() =>
        Assert.Equal(
            $"{Prefix}.resetPolcy: unknown field; the allowed fields are apiVersion, kind, resetPolicy",
            Single(Decode("{" + Head + ""","resetPolcy":"None"}""")));

    [Fact]
    public void Unknown_field_with_hostile_name_cannot_forge_a_path()
    {
        var error = Single(Decode("{" + Head + ""","a.b\nc":1}"""));
        Assert.StartsWith($"{Prefix}[\"a.b?c\"]: unknown field", error, StringComparison.Ordinal);
    }

    [Fact]
    public void All_field_errors_are_collected()
    {
        var result = Decode("""{"apiVersion":"v1","kind":"GpuConfig","resetPolicy":"Sometimes","sharingStrategy":"Shared","x":1}""");
        Assert.Equal(
            [
                $"{Prefix}.apiVersion: \"v1\" is not supported; must be resource.securedra.io/v1alpha1",
                $"{Prefix}.resetPolicy: \"Sometimes\" is not supported; the only reset policy is ZeroVRAMOnRelease",
                $"{Prefix}.sharingStrategy: {Removed}",
                $"{Prefix}.x: unknown field; the allowed fields are apiVersion, kind, resetPolicy",
            ],
            result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Tenant_reset_policy_none_is_rejected() =>
        Assert.Equal(
            $"{Prefix}.resetPolicy: None is not allowed in a claim; a claim may only set ZeroVRAMOnRelease",
            Single(Decode("{" + Head + ""","resetPolicy":"None"}""")));

    [Fact]
    public void Class_reset_policy_none_is_never_allowed()
    {
        // --allow-class-reset-policy-override was removed: nothing ever read the stored policy, so "None" would
        // have been accepted and the device scrubbed anyway. No config can turn the scrub off.
        Assert.Equal(
            $"{Prefix}.resetPolicy: None is not supported: no DeviceClass can turn off the VRAM scrub (--allow-class-reset-policy-override was removed); only ZeroVRAMOnRelease is allowed",
            Single(Decode("{" + Head + ""","resetPolicy":"None"}""", ConfigOrigin.DeviceClass)));
        Assert.Equal(
            $"{Prefix}.resetPolicy: None is not allowed in a claim; a claim may only set ZeroVRAMOnRelease",
            Single(Decode("{" + Head + ""","resetPolicy":"None"}""", ConfigOrigin.Claim)));
    }

    [Fact]
    public void Enum_values_are_case_sensitive() =>
        Assert.Contains("\"zerovramonrelease\" is not supported; the only reset policy is ZeroVRAMOnRelease", Single(Decode("{" + Head + ""","resetPolicy":"zerovramonrelease"}""")), StringComparison.Ordinal);

    [Fact]
    public void Over_size_is_rejected_by_length_before_reading()
    {
        var limit = DriverConstants.OpaqueParametersMaxBytes;
        var bytes = new byte[limit + 1];
        bytes.AsSpan().Fill((byte)'{'); // malformed on purpose: the size check must come first
        var result = Validator.Decode(bytes, Prefix, ConfigOrigin.Claim);
        Assert.Equal($"{Prefix}: 10241 bytes exceeds the maximum 10240 bytes", Single(result));
    }

    [Fact]
    public void Exactly_the_limit_is_accepted()
    {
        var baseJson = "{" + Head + ""","resetPolicy":"ZeroVRAMOnRelease"}""";
        var padded = baseJson.Insert(1, new string(' ', DriverConstants.OpaqueParametersMaxBytes - baseJson.Length));
        Assert.Equal(DriverConstants.OpaqueParametersMaxBytes, Encoding.UTF8.GetByteCount(padded));
        Assert.True(Decode(padded).IsValid);
    }

    [Fact]
    public void Lowered_limit_applies() =>
        Assert.Equal(
            $"{Prefix}: 66 bytes exceeds the maximum 64 bytes",
            Single(Decode("{" + Head + "}", validator: new GpuConfigValidator(new GpuConfigLimits { MaxBytes = 64 }))));

    [Fact]
    public void Duplicate_keys_are_rejected() =>
        Assert.Equal(
            $"{Prefix}.resetPolicy: duplicate key; each key may appear at most once",
            Single(Decode("{" + Head + ""","resetPolicy":"ZeroVRAMOnRelease","resetPolicy":"None"}""")));

    [Fact]
    public void Duplicate_keys_hidden_by_escapes_are_rejected() =>
        Assert.Equal(
            $"{Prefix}.resetPolicy: duplicate key; each key may appear at most once",
            Single(Decode("{" + Head + ""","resetPolicy":"ZeroVRAMOnRelease","resetPolic\u0079":"None"}""")));

    [Fact]
    public void Deep_nesting_is_rejected_with_the_limit() =>
        Assert.Equal(
            $"{Prefix}.x: nesting depth 9 exceeds the maximum 8",
            Assert.Single(Decode("{" + Head + ",\"x\":" + new string('[', 100) + new string(']', 100) + "}").Errors.Skip(1)).ToString());

    [Fact]
    public void Nesting_at_the_limit_is_only_an_unknown_field() =>
        Assert.Contains("unknown field", Single(Decode("{" + Head + ",\"x\":" + new string('[', 7) + new string(']', 7) + "}")), StringComparison.Ordinal);

    [Fact]
    public void Long_strings_are_rejected_with_the_limit() =>
        Assert.Equal(
            $"{Prefix}.resetPolicy: a string of 257 bytes exceeds the maximum length 256 bytes",
            Single(Decode("{" + Head + $",\"resetPolicy\":\"{new string('a', 257)}\"}}")));

    [Fact]
    public void Long_property_names_are_rejected_with_the_limit() =>
        Assert.Equal(
            $"{Prefix}: a property name of 300 bytes exceeds the maximum length 256 bytes",
            Single(Decode("{" + Head + $",\"{new string('k', 300)}\":1}}")));

    [Fact]
    public void Long_arrays_are_rejected_with_the_limit()
    {
        var result = Decode("{" + Head + ",\"x\":[" + string.Join(',', Enumerable.Repeat("1", 65)) + "]}");
        Assert.Equal($"{Prefix}.x: an array with more than 64 items exceeds the maximum 64", result.Errors[^1].ToString());
    }

    [Fact]
    public void Too_many_properties_are_rejected_with_the_limit()
    {
        var members = string.Join(',', Enumerable.Range(0, 40).Select(i => $"\"f{i}\":{i}"));
        var result = Decode("{" + Head + "," + members + "}");
        Assert.Equal($"{Prefix}: more than 32 properties exceeds the maximum 32", result.Errors[^1].ToString());
    }

    [Fact]
    public void Too_many_properties_in_a_nested_object_are_rejected()
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
    public void Valid_surrogate_pair_escapes_are_fine() =>
        Assert.Equal(
            $"{Prefix}.resetPolicy: \"\U0001F600\" is not supported; the only reset policy is ZeroVRAMOnRelease",
            Single(Decode("{" + Head + ",\"resetPolicy\":\"\\ud83d\\ude00\"}")));

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("nan")]
    public void NaNAndInfinityAreRejected(string literal) =>
        Assert.StartsWith(
            $"{Prefix}: malformed JSON at line 1",
            Single(Decode("{" + Head + $",\"resetPolicy\":{literal}}}")),
            StringComparison.Ordinal);

    [Fact]
    public void NaN_as_a_string_is_an_unsupported_value() =>
        Assert.EndsWith(
            "\"NaN\" is not supported; the only reset policy is ZeroVRAMOnRelease",
            Single(Decode("{" + Head + ",\"resetPolicy\":\"NaN\"}")),
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
    public void Empty_prefix_uses_bare_field_names()
    {
        var result = Validator.Decode("{\"kind\":\"GpuConfig\"}"u8, "", ConfigOrigin.Claim);
        Assert.Equal("apiVersion: required; must be resource.securedra.io/v1alpha1", Assert.Single(result.Errors).ToString());
        Assert.Equal("$: must be a JSON object, got an array", Assert.Single(Validator.Decode("[]"u8, "", ConfigOrigin.Claim).Errors).ToString());
    }

    [Fact]
    public void Every_error_names_its_path()
    {
        string[] inputs =
        [
            "{" + Head + ",\"sharingTimeSliceMs\":0}",
            "{" + Head + ",\"resetPolicy\":\"Never\"}",
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
    [InlineData("{\"kind\":\"GpuConfig\",\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"sharingTimeSliceMs\":0}", "removed: GPU sharing was never applied")]
    [InlineData("{\"kind\":\"GpuConfig\",\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"x\":[[[[[[[[[[1]]]]]]]]]]}", "maximum 8")]
    [InlineData("{\"kind\":\"GpuConfig\",\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"resetPolicy\":\"None\"}", "only set ZeroVRAMOnRelease")]
    [InlineData("{\"kind\":\"GpuConfig\",\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"resetPolicy\":\"Fair\"}", "the only reset policy is ZeroVRAMOnRelease")]
    [InlineData("{\"kind\":\"GpuConfig\",\"apiVersion\":\"resource.securedra.io/v1alpha1\",\"junk\":1}", "allowed fields are apiVersion, kind, resetPolicy")]
    [InlineData("{\"kind\":\"GpuConfig\",\"kind\":\"GpuConfig\",\"apiVersion\":\"resource.securedra.io/v1alpha1\"}", "at most once")]
    public void EveryErrorNamesItsLimit(string json, string limit)
    {
        var result = Decode(json);
        Assert.Contains(result.Errors, e => e.Message.Contains(limit, StringComparison.Ordinal) && e.Path.StartsWith(Prefix, StringComparison.Ordinal));
    }
}
