using System.Text.Json;
using System.Text.Json.Nodes;
using SecureDra.Api.Validation;
using SecureDra.Fuzz.Oracles;

namespace SecureDra.Fuzz.Targets;

/// <summary>
/// <see cref="GpuConfigValidator.Decode"/>, span path and stream path (<see cref="BoundedInput"/> over a
/// trickling stream, as the plugin and the CLI read files), under the production limits for a claim, a
/// DeviceClass with and without the reset-policy override, and under tiny limits so every limit is reached.
/// Documented: never throws. Oracles: both paths give the same verdict and errors, and so does a third, the same
/// parameters inside a claim or class (<see cref="ResourceObjectValidator"/>); every accepted input is valid to
/// <see cref="GpuConfigReference"/> and decodes to what it says.
/// </summary>
public sealed class GpuConfigTarget : IFuzzTarget
{
    private static readonly (ConfigOrigin Origin, GpuConfigLimits Limits)[] Settings =
    [
        (ConfigOrigin.Claim, new GpuConfigLimits()),
        (ConfigOrigin.DeviceClass, new GpuConfigLimits()),
        (ConfigOrigin.Claim, new GpuConfigLimits { MaxBytes = 160, MaxDepth = 2, MaxStringLength = 24, MaxArrayLength = 3, MaxProperties = 4 }),
    ];

    private readonly GpuConfigValidator[] _validators = [.. Settings.Select(s => new GpuConfigValidator(s.Limits))];

    public string Name => "gpuconfig";

    public int MaxInputBytes => 12 * 1024;

    public FuzzVerdict Run(ReadOnlySpan<byte> input)
    {
        var anyAccepted = false;
        var bytes = input.ToArray();
        for (var i = 0; i < Settings.Length; i++)
        {
            var (origin, limits) = Settings[i];
            GpuConfigDecodeResult span;
            try
            {
                span = _validators[i].Decode(input, "parameters", origin);
            }
            catch (Exception ex)
            {
                throw FuzzFindingException.Escaped(Name, ex);
            }

            CheckShape(span);
            CheckStreamAgrees(_validators[i], bytes, origin, span);
            if (i < 2)
            {
                CheckEmbeddedAgrees(_validators[i], input, origin, span);
            }

            if (!span.IsValid)
            {
                continue;
            }

            anyAccepted = true;
            var why = GpuConfigReference.WhyInvalid(input, origin, limits, out var expected);
            if (why is not null)
            {
                throw FuzzFindingException.WrongAccept(Name, $"{why} (origin {origin}, setting {i})");
            }

            if (expected != span.Config)
            {
                throw FuzzFindingException.WrongAccept(Name, $"decoded {span.Config} but the input says {expected}");
            }
        }

        return anyAccepted ? FuzzVerdict.Accepted : FuzzVerdict.Rejected;
    }

    private void CheckShape(GpuConfigDecodeResult result)
    {
        if ((result.Config is null) == (result.Errors.Count == 0))
        {
            throw new FuzzFindingException($"{Name}: a result must carry either a config or errors, got config {result.Config} with {result.Errors.Count} errors");
        }

        if (result.Errors.Count > GpuConfigValidator.MaxErrors)
        {
            throw new FuzzFindingException($"{Name}: {result.Errors.Count} errors exceed the documented cap of {GpuConfigValidator.MaxErrors}");
        }

        foreach (var error in result.Errors)
        {
            if (!error.Path.StartsWith("parameters", StringComparison.Ordinal) || string.IsNullOrWhiteSpace(error.Message))
            {
                throw new FuzzFindingException($"{Name}: an error must name the field under the given path and say why, got '{error}'");
            }
        }
    }

    private void CheckStreamAgrees(GpuConfigValidator validator, byte[] bytes, ConfigOrigin origin, GpuConfigDecodeResult span)
    {
        var read = BoundedInput.ReadAtMostAsync(new TrickleStream(bytes), validator.Limits.MaxBytes, CancellationToken.None).GetAwaiter().GetResult();
        if (read.ExceedsLimit)
        {
            if (span.IsValid)
            {
                throw FuzzFindingException.Disagree(Name, $"the stream path refuses {bytes.Length} bytes as over the limit, the span path accepts them");
            }

            return;
        }

        var stream = validator.Decode(read.Span, "parameters", origin);
        if (stream.IsValid != span.IsValid || stream.Config != span.Config || !stream.Errors.SequenceEqual(span.Errors))
        {
            throw FuzzFindingException.Disagree(Name, $"span: {Describe(span)}; stream: {Describe(stream)}");
        }
    }

    /// <summary>
    /// The third path: the same parameters inside a ResourceClaim or DeviceClass, as the webhook and
    /// <c>securedra validate</c> see them (parsed to a tree, re-serialised, decoded). A config the span path refuses
    /// must not get through this way; size is the exception, since re-serialising drops whitespace and escapes.
    /// </summary>
    private void CheckEmbeddedAgrees(GpuConfigValidator validator, ReadOnlySpan<byte> input, ConfigOrigin origin, GpuConfigDecodeResult span)
    {
        JsonNode? parameters;
        try
        {
            parameters = JsonNode.Parse(input, documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException)
        {
            return;
        }

        if (parameters is null || span.Errors.Any(e => e.Message.Contains("bytes exceeds the maximum", StringComparison.Ordinal)))
        {
            return;
        }

        var isClass = origin == ConfigOrigin.DeviceClass;
        var configs = new JsonArray { new JsonObject { ["opaque"] = new JsonObject { ["driver"] = OpaqueConfigs.Driver, ["parameters"] = parameters } } };
        var resource = new JsonObject
        {
            ["apiVersion"] = "resource.k8s.io/v1",
            ["kind"] = isClass ? "DeviceClass" : "ResourceClaim",
            ["metadata"] = new JsonObject { ["name"] = "fuzz" },
            ["spec"] = isClass ? new JsonObject { ["config"] = configs } : new JsonObject { ["devices"] = new JsonObject { ["config"] = configs } },
        };
        IReadOnlyList<ValidationError> embedded;
        try
        {
            embedded = new ResourceObjectValidator(validator, OpaqueConfigs.Driver).Validate(resource);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // The lazy tree holds invalid text; the webhook turns this into a denial (tested by the admission target).
            return;
        }

        if (embedded.Count == 0 && !span.IsValid)
        {
            throw FuzzFindingException.WrongAccept(Name, $"refused on its own ({string.Join("; ", span.Errors)}) but accepted inside a {(isClass ? "DeviceClass" : "ResourceClaim")}");
        }

        if (embedded.Count > 0 && span.IsValid)
        {
            throw FuzzFindingException.Disagree(Name, $"accepted on its own but refused inside a {(isClass ? "DeviceClass" : "ResourceClaim")}: {string.Join("; ", embedded)}");
        }
    }

    private static string Describe(GpuConfigDecodeResult result) =>
        result.IsValid ? $"accepted {result.Config}" : $"rejected ({string.Join("; ", result.Errors)})";
}
