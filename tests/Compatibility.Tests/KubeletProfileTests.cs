using SecureDra.LocalCluster.Kubelet;

namespace SecureDra.Compatibility.Tests;

/// <summary>The kubelet emulator's per-release profiles (reference sheet §1.6, §3.2).</summary>
public class KubeletProfileTests
{
    private static readonly string[] PluginOffer = ["v1.DRAPlugin", "v1beta1.DRAPlugin"];

    [Theory]
    [InlineData("1.32", "v1beta1.DRAPlugin", 0)]
    [InlineData("1.33", "v1beta1.DRAPlugin", 0)]
    [InlineData("1.34", "v1.DRAPlugin", 3)]
    [InlineData("1.35", "v1.DRAPlugin", 4)]
    [InlineData("v1.36.2", "v1.DRAPlugin", 5)]
    public void Each_release_picks_its_service_and_knows_its_health_fields(string version, string expected, int healthFields)
    {
        var profile = KubeletProfile.ForVersion(version);
        Assert.Equal(expected, profile.Choose(PluginOffer));
        Assert.Equal(healthFields, profile.HealthStreamFields);
    }

    [Fact]
    public void Old_kubelets_cannot_use_a_v1_only_plugin()
    {
        Assert.Null(KubeletProfile.V1_32.Choose(["v1.DRAPlugin"]));
        Assert.Null(KubeletProfile.V1_33.Choose(["v1.DRAPlugin"]));
        Assert.Equal("v1.DRAPlugin", KubeletProfile.V1_36.Choose(["v1.DRAPlugin"]));
    }

    [Fact]
    public void Unknown_release_names_the_supported_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => KubeletProfile.ForVersion("1.31"));
        Assert.Contains("1.32, 1.33, 1.34, 1.35, 1.36", e.Message, StringComparison.Ordinal);
    }
}
