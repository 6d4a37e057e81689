using SecureDra.KubeletPlugin.Devices;

namespace SecureDra.KubeletPlugin.Tests.Pipeline;

/// <summary>The slice publisher's per-version limits (resource.k8s.io validation): what it splits slices and trims taints by.</summary>
public sealed class SliceLimitsTests
{
    [Fact]
    public void Slice_limits_follow_the_server_version()
    {
        Assert.Equal(new SliceLimits(128, 128, 4, true, 34), SliceLimits.ForKubernetesMinor(34));
        Assert.Equal(new SliceLimits(128, 64, 16, true, 35), SliceLimits.ForKubernetesMinor(35));
        Assert.Equal(new SliceLimits(128, 64, 16, true, 36), SliceLimits.ForKubernetesMinor(36));

        // Device taints exist in slices from 1.33; before, a withdrawn device cannot be tainted at all.
        Assert.False(SliceLimits.ForKubernetesMinor(32).TaintsInApi);
        Assert.True(SliceLimits.ForKubernetesMinor(33).TaintsInApi);
    }

    [Fact]
    public void An_unknown_version_gets_the_strictest_shape_any_supported_server_accepts()
    {
        var limits = SliceLimits.ForKubernetesMinor(null);

        Assert.Equal(128, limits.MaxDevicesPerSlice);
        Assert.Equal(64, limits.MaxDevicesPerSliceWithTaints);
        Assert.Equal(4, limits.MaxTaintsPerDevice);
        Assert.Null(limits.KubernetesMinor);
    }
}
