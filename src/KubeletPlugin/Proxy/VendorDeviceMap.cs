using System.Globalization;
using SecureDra.Kube.Resources;
using SecureDra.Nvml.Backends;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>
/// Finds the physical GPU behind a device the vendor published: its entry in the vendor's ResourceSlices (read only)
/// gives the GPU UUID (attribute <c>uuid</c>; a MIG device's <c>parentUUID</c>) and PCI address
/// (<c>resource.kubernetes.io/pciBusID</c>); the GPU must be one NVML enumerates on this node with the same UUID and,
/// when both are known, the same PCI address.
/// </summary>
public static class VendorDeviceMap
{
    public const string PciBusIdAttribute = "resource.kubernetes.io/pciBusID";

    /// <returns>The GPU, or null with <paramref name="error"/> naming what did not match.</returns>
    public static GpuDevice? Map(AllocatedDevice device, IReadOnlyList<ResourceSliceModel> vendorSlices, IReadOnlyList<GpuDevice> gpus, string driverName, out string? error)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(vendorSlices);
        ArgumentNullException.ThrowIfNull(gpus);
        var published = vendorSlices.Where(s => s.PoolName == device.Pool).SelectMany(s => s.Devices).FirstOrDefault(d => d.Name == device.Device);
        if (published is null)
        {
            error = $"device {device.Pool}/{device.Device} is not in the vendor's ResourceSlices for this node";
            return null;
        }

        var uuid = Attribute(published, "parentUUID", driverName) ?? Attribute(published, "uuid", driverName);
        if (string.IsNullOrEmpty(uuid))
        {
            error = $"device {device.Pool}/{device.Device}: the vendor's slice gives no uuid or parentUUID attribute";
            return null;
        }

        var gpu = gpus.FirstOrDefault(g => string.Equals(g.Uuid, uuid, StringComparison.OrdinalIgnoreCase));
        if (gpu is null)
        {
            error = $"device {device.Pool}/{device.Device}: GPU {VendorPluginInfoCheck.Clip(uuid)} is not one NVML finds on this node";
            return null;
        }

        var pci = Attribute(published, PciBusIdAttribute, driverName);
        if (pci is not null && gpu.PciBusId is not null && NormalizePci(pci) != NormalizePci(gpu.PciBusId))
        {
            error = $"device {device.Pool}/{device.Device}: the slice's {PciBusIdAttribute} {VendorPluginInfoCheck.Clip(pci)} is not GPU {gpu.Uuid}'s {gpu.PciBusId}";
            return null;
        }

        error = null;
        return gpu;
    }

    private static string? Attribute(SliceDevice device, string name, string driverName) =>
        device.Attributes.TryGetValue(name, out var value) ? value.String
        : device.Attributes.TryGetValue(driverName + "/" + name, out value) ? value.String
        : null;

    /// <summary>NVML writes <c>00000000:3B:00.0</c>, Kubernetes <c>0000:3b:00.0</c>: compare domain, bus, device and function as numbers.</summary>
    internal static string NormalizePci(string address)
    {
        var parts = address.Trim().Split(':');
        if (parts.Length == 3 && parts[2].Split('.') is [var dev, var fn]
            && long.TryParse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var domain)
            && int.TryParse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var bus)
            && int.TryParse(dev, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var d)
            && int.TryParse(fn, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var f))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{domain:x}:{bus:x}:{d:x}.{f:x}");
        }

        return address.Trim().ToLowerInvariant();
    }
}
