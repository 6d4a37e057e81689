using System.Text;
using SecureDra.Api.Config.Nvidia;
using SecureDra.Api.Validation;

namespace SecureDra.Api.Tests;

/// <summary>
/// Bounded random mutation of valid NVIDIA configs (fixed seed): whatever the bytes, the proxy's decoder returns a
/// result (valid, or errors within the cap, each naming a path under the prefix) and never throws.
/// </summary>
public class NvidiaConfigRobustnessTests
{
    private const string P = "config[0].opaque.parameters";

    private static readonly string[] Seeds =
    [
        """{"apiVersion":"resource.nvidia.com/v1beta1","kind":"GpuConfig","sharing":{"strategy":"TimeSlicing","timeSlicingConfig":{"interval":"Long"}}}""",
        """{"apiVersion":"resource.nvidia.com/v1beta1","kind":"GpuConfig","sharing":{"strategy":"MPS","mpsConfig":{"defaultActiveThreadPercentage":50,"defaultPinnedDeviceMemoryLimit":"10Gi","defaultPerDevicePinnedMemoryLimit":{"0":"1Gi","GPU-0f8fad5b-d9cb-469f-a165-70867728950e":"1.5e9"},"multiUser":true}}}""",
        """{"apiVersion":"resource.nvidia.com/v1beta1","kind":"MigDeviceConfig","sharing":{"strategy":"MPS"}}""",
        """{"apiVersion":"resource.nvidia.com/v1beta1","kind":"VfioDeviceConfig","iommu":{"backendPolicy":"PreferIommuFD","enableAPIDevice":false}}""",
        """{"apiVersion":"resource.nvidia.com/v1beta1","kind":"ComputeDomainChannelConfig","domainID":"0f8fad5b-d9cb-469f-a165-70867728950e","allocationMode":"All"}""",
    ];

    private static readonly byte[] Interesting = "{}[]\":,\\u0-1.eEKMGi \n\tnull"u8.ToArray();

    [Fact]
    public void MutatedConfigsNeverThrowAndEveryErrorIsUnderThePrefix()
    {
        var validator = new NvidiaOpaqueConfigValidator(new GpuConfigLimits());
        var policies = new[] { NvidiaConfigPolicy.Strict, new NvidiaConfigPolicy(true, true, true) };
        var random = new Random(20261206);
        var valid = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var input = Mutate(random, Encoding.UTF8.GetBytes(Seeds[i % Seeds.Length]));
            var result = validator.Decode(input, P, policies[i % 2]);
            Assert.True(result.IsValid || result.Errors.Count is > 0 and <= NvidiaOpaqueConfigValidator.MaxErrors, Encoding.UTF8.GetString(input));
            Assert.All(result.Errors, e => Assert.StartsWith(P, e.Path, StringComparison.Ordinal));
            valid += result.IsValid ? 1 : 0;
        }

        // The seeds themselves stay valid under the permissive policy: the mutations, not the seeds, are rejected.
        foreach (var seed in Seeds)
        {
            Assert.True(validator.Decode(Encoding.UTF8.GetBytes(seed), P, policies[1]).IsValid, seed);
        }

        Assert.InRange(valid, 1, 19_999);
    }

    private static byte[] Mutate(Random random, byte[] input)
    {
        var bytes = new List<byte>(input);
        var edits = random.Next(1, 5);
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
}
