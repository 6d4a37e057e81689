using System.Text;
using System.Text.Json.Nodes;
using SecureDra.Api.Manifests;
using SecureDra.Api.Validation;

namespace SecureDra.Api.Tests;

/// <summary>
/// Bounded random mutation of valid inputs (a fixed seed, so a failure reproduces): whatever the
/// bytes, the decoders return errors and never throw. Longer campaigns belong to a fuzzer (SharpFuzz).
/// </summary>
public class RobustnessTests
{
    private static readonly byte[][] Seeds =
    [
        """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"ZeroVRAMOnRelease"}"""u8.ToArray(),
        """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","x":[{"a":[1,2,{"b":"\ud83d\ude00"}]}],"y":"\u0041\n"}"""u8.ToArray(),
        """
        apiVersion: resource.k8s.io/v1
        kind: ResourceClaim
        spec:
          devices:
            config:
            - opaque:
                driver: gpu.nvidia.com
                parameters: {apiVersion: resource.securedra.io/v1alpha1, kind: GpuConfig, sharingTimeSliceMs: 5}
        """u8.ToArray(),
        // The removed sharing fields: unknown-field errors with a reason, never a crash.
        """{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"ZeroVRAMOnRelease","sharingStrategy":"TimeSlicing","sharingTimeSliceMs":100}"""u8.ToArray(),
    ];

    private static readonly byte[] Interesting = "{}[]\":,\\u0-1.eE \n\t&*!<>|#'"u8.ToArray();

    private static byte[] Mutate(Random random, byte[] input)
    {
        var bytes = new List<byte>(input);
        var edits = random.Next(1, 6);
        for (var i = 0; i < edits && bytes.Count > 0; i++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0: bytes[at] = (byte)random.Next(256); break;
                case 1: bytes[at] = Interesting[random.Next(Interesting.Length)]; break;
                case 2: bytes.RemoveAt(at); break;
                case 3: bytes.Insert(at, Interesting[random.Next(Interesting.Length)]); break;
                default:
                    var length = Math.Min(random.Next(1, 16), bytes.Count - at);
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
            }
        }

        return [.. bytes];
    }

    [Fact]
    public void Mutated_inputs_never_throw()
    {
        var random = new Random(20261123);
        var config = new GpuConfigValidator(new GpuConfigLimits());
        var objects = new ResourceObjectValidator(config, "gpu.nvidia.com");
        var reader = new ManifestReader();
        var accepted = 0;
        for (var i = 0; i < 3000; i++)
        {
            var input = Mutate(random, Seeds[i % Seeds.Length]);
            var decoded = config.Decode(input, "p", ConfigOrigin.Claim);
            Assert.True(decoded.IsValid || decoded.Errors.Count > 0);
            Assert.All(decoded.Errors, e => Assert.StartsWith("p", e.Path, StringComparison.Ordinal));
            accepted += decoded.IsValid ? 1 : 0;

            var read = reader.Read(input);
            foreach (var document in read.Documents)
            {
                _ = objects.Validate(document.Object);
            }
        }

        // Sanity: the mutations are not so wild that nothing survives, nor so mild that everything does.
        Assert.InRange(accepted, 1, 2999);
    }

    [Fact]
    public void Arbitrary_json_shapes_never_throw_in_the_object_validator()
    {
        var random = new Random(7);
        var objects = new ResourceObjectValidator(new GpuConfigValidator(new GpuConfigLimits()), "gpu.nvidia.com");
        string[] kinds = ["ResourceClaim", "ResourceClaimTemplate", "DeviceClass"];
        for (var i = 0; i < 2000; i++)
        {
            var root = new JsonObject
            {
                ["apiVersion"] = "resource.k8s.io/v1",
                ["kind"] = kinds[i % 3],
                ["spec"] = RandomNode(random, 0),
            };
            _ = objects.Validate(root);
        }
    }

    private static JsonNode? RandomNode(Random random, int depth)
    {
        string[] keys = ["spec", "devices", "config", "opaque", "driver", "parameters", "gpu.nvidia.com", "resetPolicy", "x"];
        switch (depth > 5 ? random.Next(4) : random.Next(7))
        {
            case 0: return null;
            case 1: return JsonValue.Create(random.Next(-5, 20000));
            case 2: return JsonValue.Create(keys[random.Next(keys.Length)]);
            case 3: return JsonValue.Create(random.NextDouble() < 0.5);
            case 4:
                var array = new JsonArray();
                for (var i = random.Next(4); i > 0; i--)
                {
                    array.Add(RandomNode(random, depth + 1));
                }

                return array;
            default:
                var obj = new JsonObject();
                for (var i = random.Next(5); i > 0; i--)
                {
                    obj[keys[random.Next(keys.Length)]] = RandomNode(random, depth + 1);
                }

                return obj;
        }
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var random = new Random(42);
        var config = new GpuConfigValidator(new GpuConfigLimits());
        var reader = new ManifestReader();
        var buffer = new byte[256];
        for (var i = 0; i < 2000; i++)
        {
            var length = random.Next(buffer.Length);
            random.NextBytes(buffer.AsSpan(0, length));
            Assert.NotEmpty(config.Decode(buffer.AsSpan(0, length), "p", ConfigOrigin.Claim).Errors);
            _ = reader.Read(buffer.AsSpan(0, length));
            _ = Encoding.UTF8.GetString(buffer, 0, length);
        }
    }
}
