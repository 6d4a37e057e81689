using System.Globalization;
using SecureDra.KubeletPlugin.Claims;

namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>One device the scheduler allocated to a claim for the proxied driver.</summary>
public sealed record AllocatedDevice(string Pool, string Device);

/// <summary>
/// Checks the vendor's Prepare answer for one claim before the kubelet sees it: no error; exactly the claim's allocated
/// devices of this driver, each once; 1 to <see cref="ProxyOptions.MaxCdiIdsPerDevice"/> CDI device IDs per device, each
/// of a kind the vendor is known to emit for this claim and device (<c>k8s.&lt;driver&gt;/claim=&lt;uid&gt;-&lt;device&gt;</c>,
/// or <c>&lt;driver&gt;/metadata=&lt;uid&gt;_&lt;request&gt;</c> for one of the device's requests); bounded request names and
/// share ID. Anything else is the claim's error (the caller unprepares it at the vendor).
/// </summary>
public static class VendorAnswerCheck
{
    public const int MaxRequestNamesPerDevice = 32;
    public const int MaxNameLength = 253;

    /// <returns>Null when the answer may go to the kubelet, else a one-line reason naming the field and the limit.</returns>
    public static string? Check(ClaimRef claim, IReadOnlyCollection<AllocatedDevice> allocated, VendorClaimAnswer? answer, string driverName, int maxCdiIdsPerDevice)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(allocated);
        if (answer is null)
        {
            return "vendor answer: no entry for this claim";
        }

        if (!string.IsNullOrEmpty(answer.Error))
        {
            return "vendor: " + VendorPluginInfoCheck.Clip(answer.Error);
        }

        var expected = allocated.ToHashSet();
        var seen = new HashSet<AllocatedDevice>();
        foreach (var device in answer.Devices)
        {
            var key = new AllocatedDevice(device.PoolName, device.DeviceName);
            if (!expected.Contains(key))
            {
                return $"vendor answer: devices: {Quote(device.PoolName)}/{Quote(device.DeviceName)} is not allocated to this claim";
            }

            if (!seen.Add(key))
            {
                return $"vendor answer: devices: {Quote(device.PoolName)}/{Quote(device.DeviceName)} appears twice";
            }

            if (device.RequestNames.Count is 0 || device.RequestNames.Count > MaxRequestNamesPerDevice || device.RequestNames.Any(r => r.Length is 0 or > MaxNameLength))
            {
                return $"vendor answer: devices[{device.DeviceName}].requestNames: {device.RequestNames.Count} names; 1 to {MaxRequestNamesPerDevice} of 1 to {MaxNameLength} characters are accepted";
            }

            if (device.ShareId is { } share && (share.Length > 64 || !share.All(IsIdChar)))
            {
                return $"vendor answer: devices[{device.DeviceName}].shareID: at most 64 characters of [A-Za-z0-9-]";
            }

            if (device.CdiDeviceIds.Count == 0 || device.CdiDeviceIds.Count > maxCdiIdsPerDevice)
            {
                return $"vendor answer: devices[{device.DeviceName}].cdiDeviceIDs: {device.CdiDeviceIds.Count.ToString(CultureInfo.InvariantCulture)} IDs; 1 to {maxCdiIdsPerDevice.ToString(CultureInfo.InvariantCulture)} are accepted";
            }

            var deviceId = $"k8s.{driverName}/claim={claim.Uid}-{device.DeviceName}";
            foreach (var id in device.CdiDeviceIds)
            {
                if (!string.Equals(id, deviceId, StringComparison.Ordinal) && !IsMetadataId(id, driverName, claim.Uid, device.RequestNames))
                {
                    return $"vendor answer: devices[{device.DeviceName}].cdiDeviceIDs: \"{VendorPluginInfoCheck.Clip(id)}\" is not {deviceId} or {driverName}/metadata={claim.Uid}_<request>";
                }
            }

            if (!string.Equals(device.CdiDeviceIds[0], deviceId, StringComparison.Ordinal))
            {
                // The kubelet keys device health by the first ID; it must be the device's own.
                return $"vendor answer: devices[{device.DeviceName}].cdiDeviceIDs[0]: must be {deviceId}";
            }
        }

        var missing = expected.Except(seen).ToList();
        return missing.Count == 0
            ? null
            : $"vendor answer: devices: {string.Join(", ", missing.Take(4).Select(m => m.Pool + "/" + m.Device))} allocated to this claim but not prepared";
    }

    private static bool IsMetadataId(string id, string driverName, string uid, IReadOnlyList<string> requestNames)
    {
        var prefix = $"{driverName}/metadata={uid}_";
        return id.StartsWith(prefix, StringComparison.Ordinal) && requestNames.Contains(id[prefix.Length..], StringComparer.Ordinal);
    }

    private static bool IsIdChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '-';

    private static string Quote(string value) => VendorPluginInfoCheck.Clip(value);
}
