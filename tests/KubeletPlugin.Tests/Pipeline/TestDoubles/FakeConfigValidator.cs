using System.Collections.Concurrent;
using System.Text.Json;
using SecureDra.Api;
using SecureDra.Api.Config;
using SecureDra.Api.Validation;

namespace SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

/// <summary>
/// A stand-in for the strict decoder: JSON object with an optional resetPolicy; any other key is an
/// unknown field; a claim may only say ZeroVRAMOnRelease. A class may say anything, so tests can see
/// which config won for which result.
/// </summary>
public sealed class FakeConfigValidator : IGpuConfigValidator
{
    public ConcurrentQueue<(string Path, ConfigOrigin Origin)> Calls { get; } = new();

    public GpuConfigDecodeResult Decode(ReadOnlySpan<byte> parametersJson, string path, ConfigOrigin origin)
    {
        Calls.Enqueue((path, origin));
        try
        {
            using var doc = JsonDocument.Parse(parametersJson.ToArray());
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return new(null, [new ValidationError(path, "must be an object")]);
            }

            var reset = DriverConstants.ZeroVramOnRelease;
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "apiVersion" or "kind":
                        break;
                    case "resetPolicy":
                        reset = p.Value.GetString()!;
                        if (origin == ConfigOrigin.Claim && reset != DriverConstants.ZeroVramOnRelease)
                        {
                            return new(null, [new ValidationError(path + ".resetPolicy", $"a claim may only set {DriverConstants.ZeroVramOnRelease}")]);
                        }

                        break;
                    default:
                        return new(null, [new ValidationError(path + "." + p.Name, "unknown field")]);
                }
            }

            return new(new GpuConfig(reset), []);
        }
        catch (JsonException ex)
        {
            return new(null, [new ValidationError(path, ex.Message)]);
        }
    }
}
