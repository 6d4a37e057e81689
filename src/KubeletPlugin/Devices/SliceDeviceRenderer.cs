using System.Globalization;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Nvml.Backends;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// Renders the inventory into ResourceSlice devices, with attribute names as NVIDIA's DRA driver
/// publishes them so existing DeviceClass selectors keep working. It renders, it never decides:
/// a withdrawn device is left out, or tainted when taints are in use. <paramref name="confidential"/>: the node's
/// confidential-computing attributes (SecureDra's own, qualified names), added to every device once read.
/// </summary>
public sealed class SliceDeviceRenderer(PciTopology pci, ConfidentialComputeAttributes? confidential = null)
{
    public const string PciBusIdAttribute = "resource.kubernetes.io/pciBusID";
    public const string PcieRootAttribute = "resource.kubernetes.io/pcieRoot";

    private const long Gi = 1024L * 1024 * 1024;
    private const long Mi = 1024L * 1024;

    /// <summary>The state of what is rendered beside each device's own attributes (confidential computing), by value.</summary>
    public object? RenderedAttributesState => confidential?.State;

    /// <param name="taintEffect">NoSchedule / NoExecute, or null to remove withdrawn devices instead.</param>
    public IReadOnlyList<SliceDevice> Render(InventorySnapshot snapshot, string? taintEffect, int maxTaintsPerDevice)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var devices = new List<SliceDevice>(snapshot.Devices.Count);
        foreach (var state in snapshot.Devices)
        {
            IReadOnlyList<DeviceTaint> taints = [];
            if (state.IsWithdrawn)
            {
                if (taintEffect is null)
                {
                    continue;
                }

                taints = [.. state.Withdrawals.Keys.Order().Take(maxTaintsPerDevice).Select(r => new DeviceTaint(DeviceTaintKeys.For(r), null, taintEffect))];
                if (taints.Count < state.Withdrawals.Count)
                {
                    // Cannot express every reason within the per-device limit: leave it out rather than under-report.
                    continue;
                }
            }

            devices.Add(RenderDevice(state.Device, taints));
        }

        return devices;
    }

    public SliceDevice RenderDevice(GpuDevice gpu, IReadOnlyList<DeviceTaint> taints)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        var attributes = new Dictionary<string, DeviceAttributeValue>(StringComparer.Ordinal)
        {
            ["type"] = DeviceAttributeValue.Of("gpu"),
            ["index"] = DeviceAttributeValue.Of((long)gpu.Index),
            ["minor"] = DeviceAttributeValue.Of((long)gpu.Minor),
        };
        AddString(attributes, "uuid", gpu.Uuid);
        AddString(attributes, "productName", gpu.ProductName);
        AddString(attributes, "brand", gpu.Brand);
        AddString(attributes, "architecture", gpu.Architecture);
        AddVersion(attributes, "cudaComputeCapability", gpu.CudaComputeCapability);
        AddVersion(attributes, "driverVersion", gpu.DriverVersion);
        AddVersion(attributes, "cudaDriverVersion", gpu.CudaDriverVersion);

        if (PciTopology.NormalizeBusId(gpu.PciBusId) is { } busId)
        {
            attributes[PciBusIdAttribute] = DeviceAttributeValue.Of(busId);
            if (pci.PcieRoot(busId) is { } root)
            {
                attributes[PcieRootAttribute] = DeviceAttributeValue.Of(root);
            }
        }

        confidential?.AddTo(attributes);
        var capacity = new Dictionary<string, string>(StringComparer.Ordinal) { ["memory"] = Quantity(gpu.MemoryBytes) };
        return new SliceDevice(gpu.Name, attributes, capacity, taints);
    }

    /// <summary>Exact binary Quantity: "80Gi", "81920Mi" or plain bytes.</summary>
    public static string Quantity(long bytes) =>
        bytes > 0 && bytes % Gi == 0 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / Gi}Gi")
        : bytes > 0 && bytes % Mi == 0 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / Mi}Mi")
        : bytes.ToString(CultureInfo.InvariantCulture);

    public static string? TaintEffectFor(WithdrawalMode mode) => mode switch
    {
        WithdrawalMode.TaintNoSchedule => "NoSchedule",
        WithdrawalMode.TaintNoExecute => "NoExecute",
        _ => null,
    };

    private static void AddString(Dictionary<string, DeviceAttributeValue> attributes, string name, string? value)
    {
        // The API caps string attributes at 64 characters; a longer NVML string would fail the whole slice.
        if (!string.IsNullOrEmpty(value) && value.Length <= 64)
        {
            attributes[name] = DeviceAttributeValue.Of(value);
        }
    }

    private static void AddVersion(Dictionary<string, DeviceAttributeValue> attributes, string name, string? value)
    {
        if (SemVer.Normalize(value) is { } version)
        {
            attributes[name] = DeviceAttributeValue.SemVer(version);
        }
    }
}
