using System.Globalization;
using System.Text;

using SecureDra.Nvml.Backends.Mig;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// Device and counter names as NVIDIA's DRA driver publishes them, so DeviceClass selectors and
/// claims written for it keep working: <c>gpu-&lt;minor&gt;-mig-&lt;profile without dots&gt;-&lt;profileId&gt;-&lt;start&gt;</c>,
/// counter set <c>gpu-&lt;minor&gt;-counter-set</c>, counters <c>memory-slice-&lt;i&gt;</c>.
/// </summary>
public static class MigDeviceNames
{
    /// <summary>NVML MIG GPUs have 8 memory slices (A100, H100).</summary>
    public const int MemorySlices = MigPlacement.MemorySliceCount;

    public static string Placement(int parentMinor, MigProfile profile, MigPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return string.Create(CultureInfo.InvariantCulture, $"gpu-{parentMinor}-mig-{ProfileToken(profile.Name)}-{profile.Id}-{placement.Start}");
    }

    public static string CounterSet(int parentMinor) => string.Create(CultureInfo.InvariantCulture, $"gpu-{parentMinor}-counter-set");

    public static string MemorySliceCounter(int slice) => string.Create(CultureInfo.InvariantCulture, $"memory-slice-{slice}");

    /// <summary>"1g.10gb+me" → "1g10gb-me": dots dropped, then anything outside [a-z0-9-] becomes '-' (DNS label).</summary>
    public static string ProfileToken(string profileName)
    {
        ArgumentNullException.ThrowIfNull(profileName);
        var sb = new StringBuilder(profileName.Length);
        foreach (var c in profileName.ToLowerInvariant().Replace(".", "", StringComparison.Ordinal))
        {
            sb.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' ? c : '-');
        }

        return sb.ToString().Trim('-');
    }

    /// <summary>A capacity name (C identifier, camelCase) as a counter name (DNS label): copyEngines → copy-engines.</summary>
    public static string CounterFor(string capacity)
    {
        ArgumentNullException.ThrowIfNull(capacity);
        var sb = new StringBuilder(capacity.Length + 4);
        for (var i = 0; i < capacity.Length; i++)
        {
            var c = capacity[i];
            if (char.IsAsciiLetterUpper(c) && i > 0 && (char.IsAsciiLetterLower(capacity[i - 1]) || char.IsAsciiDigit(capacity[i - 1])))
            {
                sb.Append('-');
            }

            sb.Append(char.ToLowerInvariant(c));
        }

        return sb.ToString();
    }
}
