using SecureDra.Kube.Resources;

namespace SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

/// <summary>Builds allocated ResourceClaims for tests.</summary>
public static class TestClaims
{
    public const string Driver = "gpu.nvidia.com";
    public const string Node = "node-a";

    public static string Uid(int i) => $"00000000-0000-4000-8000-{i:d12}";

    public static ResourceClaimModel Allocated(int i, params string[] devices) =>
        Allocated(i, [.. devices.Select(d => new AllocationResult("gpu", Driver, Node, d, false, null))], []);

    public static ResourceClaimModel Allocated(int i, IReadOnlyList<AllocationResult> results, IReadOnlyList<ClaimConfig> config) =>
        new("tenant", $"claim-{i}", Uid(i), "1", [], [], new ClaimAllocation(results, config));

    public static SecureDra.KubeletPlugin.Claims.ClaimRef Ref(int i) => new("tenant", $"claim-{i}", Uid(i));

    public static ClaimConfig Opaque(string source, string json, params string[] requests) => new(requests, Driver, json, source);
}
