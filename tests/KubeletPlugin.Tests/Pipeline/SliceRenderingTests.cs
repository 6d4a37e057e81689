using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

namespace SecureDra.KubeletPlugin.Tests.Pipeline;

public class SliceRenderingTests
{
    [Theory]
    [InlineData("12.2", "12.2.0")]
    [InlineData("535.261.03", "535.261.3")]
    [InlineData("9.0", "9.0.0")]
    [InlineData("580", "580.0.0")]
    [InlineData(" 12.4.1 ", "12.4.1")]
    [InlineData("N/A", null)]
    [InlineData("1.2.3.4", null)]
    [InlineData("", null)]
    [InlineData("12.x", null)]
    [InlineData("-1.0", null)]
    public void Versions_are_normalized_to_valid_semver(string raw, string? expected) =>
        Assert.Equal(expected, SemVer.Normalize(raw));

    [Theory]
    [InlineData("00000000:3B:00.0", "0000:3b:00.0")]
    [InlineData("0000:3b:00.0", "0000:3b:00.0")]
    [InlineData("00000001:AF:1F.7", "0001:af:1f.7")]
    [InlineData("nonsense", null)]
    [InlineData("00000000:3B:00.9", null)]
    public void Pci_bus_ids_are_normalized(string raw, string? expected) =>
        Assert.Equal(expected, PciTopology.NormalizeBusId(raw));

    [Fact]
    public void Pcie_root_comes_from_the_sysfs_link_and_is_omitted_when_unknown()
    {
        var sys = Path.Combine(Path.GetTempPath(), "securedra-sys-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var target = Path.Combine(sys, "devices", "pci0000:3a", "0000:3a:00.0", "0000:3b:00.0");
            Directory.CreateDirectory(target);
            Directory.CreateDirectory(Path.Combine(sys, "bus", "pci", "devices"));
            File.CreateSymbolicLink(Path.Combine(sys, "bus", "pci", "devices", "0000:3b:00.0"), target);

            var pci = new PciTopology(sys);
            Assert.Equal("pci0000:3a", pci.PcieRoot("0000:3b:00.0"));
            Assert.Null(pci.PcieRoot("0000:99:00.0"));
        }
        finally
        {
            Directory.Delete(sys, true);
        }
    }

    [Fact]
    public void Pcie_root_is_read_from_sysfs_once_per_bus_id()
    {
        var sys = Path.Combine(Path.GetTempPath(), "securedra-sys-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var devices = Path.Combine(sys, "bus", "pci", "devices");
            Directory.CreateDirectory(devices);
            var target = Path.Combine(sys, "devices", "pci0000:3a", "0000:3a:00.0", "0000:3b:00.0");
            Directory.CreateDirectory(target);
            File.CreateSymbolicLink(Path.Combine(devices, "0000:3b:00.0"), target);
            var pci = new PciTopology(sys);
            Assert.Null(pci.PcieRoot("0000:99:00.0"));
            Assert.Equal("pci0000:3a", pci.PcieRoot("0000:3b:00.0"));

            // Read once: sysfs changing afterwards (it does not while the plugin runs) changes no answer, so a render
            // of every device on every inventory change costs no file-system call.
            File.CreateSymbolicLink(Path.Combine(devices, "0000:99:00.0"), target);
            Assert.Null(pci.PcieRoot("0000:99:00.0"));
            File.Delete(Path.Combine(devices, "0000:3b:00.0"));
            Assert.Equal("pci0000:3a", pci.PcieRoot("0000:3b:00.0"));
            Assert.Equal("pci0000:3a", new SliceDeviceRenderer(pci).RenderDevice(new FakeGpuBackend(Path.GetTempPath(), 1).Devices[0] with { PciBusId = "00000000:3B:00.0" }, []).Attributes[SliceDeviceRenderer.PcieRootAttribute].String);
        }
        finally
        {
            Directory.Delete(sys, true);
        }
    }

    [Fact]
    public void Device_carries_nvidia_attribute_names_versions_and_memory_capacity()
    {
        var backend = new FakeGpuBackend(Path.GetTempPath(), 1);
        var device = new SliceDeviceRenderer(new PciTopology("/nonexistent")).RenderDevice(backend.Devices[0], []);

        Assert.Equal("gpu-0", device.Name);
        Assert.Equal(DeviceAttributeValue.Of("gpu"), device.Attributes["type"]);
        Assert.Equal(DeviceAttributeValue.Of(backend.Devices[0].Uuid), device.Attributes["uuid"]);
        Assert.Equal(DeviceAttributeValue.Of("NVIDIA H100 80GB HBM3"), device.Attributes["productName"]);
        Assert.Equal(DeviceAttributeValue.Of("Nvidia"), device.Attributes["brand"]);
        Assert.Equal(DeviceAttributeValue.Of("Hopper"), device.Attributes["architecture"]);
        Assert.Equal(DeviceAttributeValue.SemVer("9.0.0"), device.Attributes["cudaComputeCapability"]);
        Assert.Equal(DeviceAttributeValue.SemVer("535.261.3"), device.Attributes["driverVersion"]);
        Assert.Equal(DeviceAttributeValue.SemVer("12.2.0"), device.Attributes["cudaDriverVersion"]);
        Assert.Equal(DeviceAttributeValue.Of(0L), device.Attributes["index"]);
        Assert.Equal(DeviceAttributeValue.Of(0L), device.Attributes["minor"]);
        Assert.Equal(DeviceAttributeValue.Of("0000:10:00.0"), device.Attributes["resource.kubernetes.io/pciBusID"]);
        Assert.False(device.Attributes.ContainsKey("resource.kubernetes.io/pcieRoot"));
        Assert.Equal("80Gi", device.Capacity["memory"]);
        Assert.True(device.Attributes.Count + device.Capacity.Count <= 32);
    }

    [Theory]
    [InlineData(80L * 1024 * 1024 * 1024, "80Gi")]
    [InlineData(1536L * 1024 * 1024, "1536Mi")]
    [InlineData(1000L, "1000")]
    public void Memory_is_an_exact_quantity(long bytes, string expected) => Assert.Equal(expected, SliceDeviceRenderer.Quantity(bytes));

    [Theory]
    [InlineData(null, 128, 64, 4)]
    [InlineData(34, 128, 128, 4)]
    [InlineData(35, 128, 64, 16)]
    [InlineData(36, 128, 64, 16)]
    public void Limits_follow_the_kubernetes_version(int? minor, int max, int withTaints, int taints)
    {
        var limits = SliceLimits.ForKubernetesMinor(minor);
        Assert.Equal(max, limits.MaxDevicesPerSlice);
        Assert.Equal(withTaints, limits.MaxDevicesPerSliceWithTaints);
        Assert.Equal(taints, limits.MaxTaintsPerDevice);
    }

    [Fact]
    public void Kubernetes_132_has_no_device_taints() => Assert.False(SliceLimits.ForKubernetesMinor(32).TaintsInApi);
}
