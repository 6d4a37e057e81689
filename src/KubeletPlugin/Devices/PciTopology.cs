using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// PCI facts for the standard <c>resource.kubernetes.io/pciBusID</c> and <c>pcieRoot</c>
/// attributes. The root complex is read from sysfs (the path the device's link resolves to), as
/// Kubernetes' own deviceattribute helper does: it cannot be derived from the bus ID alone
/// because a GPU sits behind switches on a different bus than its root port.
/// </summary>
public sealed partial class PciTopology(string sysfsRoot)
{
    /// <summary>NVML's "00000000:3B:00.0" → "0000:3b:00.0"; null when it is not a PCI address.</summary>
    public static string? NormalizeBusId(string? raw)
    {
        if (raw is null)
        {
            return null;
        }

        var m = BusIdPattern().Match(raw.Trim());
        if (!m.Success)
        {
            return null;
        }

        var domain = long.Parse(m.Groups["domain"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if (domain > 0xffff)
        {
            return null;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{domain:x4}:{m.Groups["bus"].Value.ToLowerInvariant()}:{m.Groups["dev"].Value.ToLowerInvariant()}.{m.Groups["fn"].Value}");
    }

    // The answer per bus ID, read once (found or not): a GPU does not move to another root complex while the plugin
    // runs. The slice publisher renders every device on every inventory change (two per Prepare), and reading the
    // link was ~40 % of a render in a profile.
    private readonly ConcurrentDictionary<string, string?> _roots = new(StringComparer.Ordinal);

    /// <summary>e.g. "pci0000:00"; null when sysfs does not say (simulated GPUs, containers without /sys).</summary>
    public string? PcieRoot(string normalizedBusId)
    {
        ArgumentNullException.ThrowIfNull(normalizedBusId);
        return _roots.GetOrAdd(normalizedBusId, ReadPcieRoot);
    }

    private string? ReadPcieRoot(string normalizedBusId)
    {
        try
        {
            var link = new FileInfo(Path.Combine(sysfsRoot, "bus", "pci", "devices", normalizedBusId));
            var target = link.LinkTarget is null ? null : link.ResolveLinkTarget(returnFinalTarget: true)?.FullName;
            if (target is null)
            {
                return null;
            }

            foreach (var segment in target.Split('/'))
            {
                if (RootPattern().IsMatch(segment))
                {
                    return segment;
                }
            }

            return null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    [GeneratedRegex("^(?<domain>[0-9a-fA-F]{1,8}):(?<bus>[0-9a-fA-F]{2}):(?<dev>[0-9a-fA-F]{2})\\.(?<fn>[0-7])$")]
    private static partial Regex BusIdPattern();

    [GeneratedRegex("^pci[0-9a-f]{4}:[0-9a-f]{2}$")]
    private static partial Regex RootPattern();
}
