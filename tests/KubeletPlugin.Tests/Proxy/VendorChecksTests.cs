using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Proxy;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Protocol.Registration;

namespace SecureDra.KubeletPlugin.Tests.Proxy;

/// <summary>The proxy's checks of what the vendor says, without sockets: every way to slip something past them.</summary>
public class VendorChecksTests
{
    private const string Uid = "00000000-0000-4000-8000-000000000001";
    private static readonly ClaimRef Claim = new("tenant", "claim-1", Uid);
    private static readonly AllocatedDevice[] Allocated = [new("node-a", "gpu-0"), new("node-a", "gpu-1")];

    private static PreparedDevice Device(string name, params string[] cdi) =>
        new(["gpu"], "node-a", name, cdi.Length == 0 ? [$"k8s.gpu.nvidia.com/claim={Uid}-{name}"] : cdi);

    private static string? Check(params PreparedDevice[] devices) =>
        VendorAnswerCheck.Check(Claim, Allocated, new VendorClaimAnswer(devices, ""), "gpu.nvidia.com", 4);

    [Fact]
    public void An_honest_answer_passes_with_a_metadata_id_after_the_device_id() =>
        Assert.Null(Check(Device("gpu-0"), Device("gpu-1", $"k8s.gpu.nvidia.com/claim={Uid}-gpu-1", $"gpu.nvidia.com/metadata={Uid}_gpu")));

    [Theory]
    [InlineData("devices: node-a/gpu-9 is not allocated to this claim", "gpu-9")]
    [InlineData("appears twice", "gpu-0")]
    public void Foreign_or_repeated_devices_are_refused(string expected, string extra) =>
        Assert.Contains(expected, Check(Device("gpu-0"), Device("gpu-1"), Device(extra)), StringComparison.Ordinal);

    [Fact]
    public void A_missing_device_is_refused() =>
        Assert.Contains("allocated to this claim but not prepared", Check(Device("gpu-0")), StringComparison.Ordinal);

    [Theory]
    [InlineData("nvidia.com/gpu=all")]
    [InlineData("k8s.gpu.nvidia.com/claim=00000000-0000-4000-8000-000000000002-gpu-0")] // another claim's spec
    [InlineData("k8s.gpu.nvidia.com/claim=00000000-0000-4000-8000-000000000001-gpu-1")] // another device's spec
    [InlineData("gpu.nvidia.com/metadata=00000000-0000-4000-8000-000000000001_other")] // a request this device is not for
    [InlineData("k8s.gpu.nvidia.com/claim=00000000-0000-4000-8000-000000000001-gpu-0/../x")]
    public void Foreign_cdi_ids_are_refused(string id)
    {
        var error = Check(Device("gpu-0", $"k8s.gpu.nvidia.com/claim={Uid}-gpu-0", id), Device("gpu-1"));
        Assert.Contains("cdiDeviceIDs", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_device_id_must_come_first_because_the_kubelet_keys_health_by_it() =>
        Assert.Contains("cdiDeviceIDs[0]", Check(Device("gpu-0", $"gpu.nvidia.com/metadata={Uid}_gpu", $"k8s.gpu.nvidia.com/claim={Uid}-gpu-0"), Device("gpu-1")), StringComparison.Ordinal);

    [Fact]
    public void Too_many_or_no_cdi_ids_are_refused_with_the_limit()
    {
        Assert.Contains("5 IDs; 1 to 4", Check(Device("gpu-0", [$"k8s.gpu.nvidia.com/claim={Uid}-gpu-0", .. Enumerable.Repeat($"gpu.nvidia.com/metadata={Uid}_gpu", 4)]), Device("gpu-1")), StringComparison.Ordinal);
        Assert.Contains("0 IDs", VendorAnswerCheck.Check(Claim, Allocated, new VendorClaimAnswer([new PreparedDevice(["gpu"], "node-a", "gpu-0", []), Device("gpu-1")], ""), "gpu.nvidia.com", 4), StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_request_names_and_share_ids_are_refused()
    {
        Assert.Contains("requestNames", Check(new PreparedDevice([], "node-a", "gpu-0", [$"k8s.gpu.nvidia.com/claim={Uid}-gpu-0"]), Device("gpu-1")), StringComparison.Ordinal);
        Assert.Contains("shareID", Check(Device("gpu-0") with { ShareId = "../../etc" }, Device("gpu-1")), StringComparison.Ordinal);
    }

    [Fact]
    public void A_vendor_error_or_no_entry_is_the_claims_error()
    {
        Assert.Equal("vendor: boom", VendorAnswerCheck.Check(Claim, Allocated, new VendorClaimAnswer([], "boom"), "gpu.nvidia.com", 4));
        Assert.Contains("no entry", VendorAnswerCheck.Check(Claim, Allocated, null, "gpu.nvidia.com", 4), StringComparison.Ordinal);
    }

    private static ProxyOptions Options(string root) => new() { VendorPluginsDirectory = root, VendorRegistryDirectory = "/nonexistent" };

    private static PluginInfo Info(string endpoint, params string[] versions)
    {
        var info = new PluginInfo { Type = "DRAPlugin", Name = "gpu.nvidia.com", Endpoint = endpoint };
        info.SupportedVersions.Add(versions.Length == 0 ? ["v1.DRAPlugin", "v1beta1.DRAPlugin"] : versions);
        return info;
    }

    [Fact]
    public void An_endpoint_reached_through_a_symlink_or_dotdot_out_of_the_root_is_refused()
    {
        using var dir = TempDir.Create();
        var root = Path.Combine(dir.Path, "vplug");
        var outside = Path.Combine(dir.Path, "elsewhere");
        Directory.CreateDirectory(root);
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "dra.sock"), "");
        Directory.CreateSymbolicLink(Path.Combine(root, "link"), outside);

        Assert.StartsWith("endpoint:", VendorPluginInfoCheck.Check(Info(Path.Combine(root, "link", "dra.sock")), Options(root), out _), StringComparison.Ordinal);
        Assert.StartsWith("endpoint:", VendorPluginInfoCheck.Check(Info(root + "/../elsewhere/dra.sock"), Options(root), out _), StringComparison.Ordinal);
        Assert.StartsWith("endpoint:", VendorPluginInfoCheck.Check(Info("relative/dra.sock"), Options(root), out _), StringComparison.Ordinal);
        Assert.StartsWith("endpoint:", VendorPluginInfoCheck.Check(Info(Path.Combine(root, "missing.sock")), Options(root), out _), StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(root, "dra.sock"), "");
        Assert.Null(VendorPluginInfoCheck.Check(Info(Path.Combine(root, "dra.sock")), Options(root), out var endpoint));
        Assert.Equal(VendorDraVersion.V1, endpoint!.Version);
        Assert.Null(VendorPluginInfoCheck.Check(Info(Path.Combine(root, "dra.sock"), "v1beta1.DRAPlugin"), Options(root), out endpoint));
        Assert.Equal(VendorDraVersion.V1Beta1, endpoint!.Version);
        Assert.StartsWith("supported_versions:", VendorPluginInfoCheck.Check(Info(Path.Combine(root, "dra.sock"), "v1alpha4.DRAPlugin"), Options(root), out _), StringComparison.Ordinal);
        Assert.StartsWith("supported_versions:", VendorPluginInfoCheck.Check(Info(Path.Combine(root, "dra.sock"), [.. Enumerable.Repeat("v1.DRAPlugin", 17)]), Options(root), out _), StringComparison.Ordinal);
    }

    private static readonly SecureDra.Nvml.Backends.GpuDevice[] Gpus = [.. new FakeGpuBackend("/nonexistent", 2).Devices];

    private static ResourceSliceModel Slice(params (string Name, string? Uuid, string? Parent, string? Pci)[] devices) =>
        new("s", "1", "gpu.nvidia.com", "node-a", "node-a", 1, 1, [.. devices.Select(d => new SliceDevice(
            d.Name,
            new Dictionary<string, DeviceAttributeValue>(
                new[] { ("uuid", d.Uuid), ("parentUUID", d.Parent), ("resource.kubernetes.io/pciBusID", d.Pci) }
                    .Where(a => a.Item2 is not null).Select(a => KeyValuePair.Create(a.Item1, DeviceAttributeValue.Of(a.Item2!)))),
            new Dictionary<string, string>(),
            []))]);

    [Fact]
    public void A_device_maps_to_a_gpu_by_uuid_and_its_pci_address_must_agree()
    {
        var uuid = Gpus[1].Uuid;
        Assert.Equal("gpu-1", VendorDeviceMap.Map(new("node-a", "x"), [Slice(("x", uuid, null, "0000:11:00.0"))], Gpus, "gpu.nvidia.com", out _)!.Name);
        Assert.Equal("gpu-1", VendorDeviceMap.Map(new("node-a", "mig"), [Slice(("mig", "MIG-1234", uuid, null))], Gpus, "gpu.nvidia.com", out _)!.Name);

        Assert.Null(VendorDeviceMap.Map(new("node-a", "x"), [Slice(("x", uuid, null, "0000:10:00.0"))], Gpus, "gpu.nvidia.com", out var error));
        Assert.Contains("pciBusID", error, StringComparison.Ordinal);
        Assert.Null(VendorDeviceMap.Map(new("node-a", "x"), [Slice(("x", "GPU-not-here", null, null))], Gpus, "gpu.nvidia.com", out error));
        Assert.Contains("not one NVML finds", error, StringComparison.Ordinal);
        Assert.Null(VendorDeviceMap.Map(new("node-a", "x"), [Slice(("x", null, null, null))], Gpus, "gpu.nvidia.com", out error));
        Assert.Contains("no uuid", error, StringComparison.Ordinal);
        Assert.Null(VendorDeviceMap.Map(new("node-b", "x"), [Slice(("x", uuid, null, null))], Gpus, "gpu.nvidia.com", out error));
        Assert.Contains("not in the vendor's ResourceSlices", error, StringComparison.Ordinal);
    }
}
