using System.Globalization;

namespace SecureDra.Nvml.Backends.Nvidia;

/// <summary>Human names and semver-shaped versions for what NVML reports as numbers.</summary>
public static class NvidiaNames
{
    /// <summary><c>nvmlDeviceArchitecture_t</c> → name.</summary>
    public static string Architecture(uint arch) => arch switch
    {
        2 => "Kepler",
        3 => "Maxwell",
        4 => "Pascal",
        5 => "Volta",
        6 => "Turing",
        7 => "Ampere",
        8 => "Ada",
        9 => "Hopper",
        10 => "Blackwell",
        _ => "Unknown",
    };

    /// <summary><c>nvmlBrandType_t</c> → name.</summary>
    public static string Brand(int brand) => brand switch
    {
        1 => "Quadro",
        2 => "Tesla",
        3 => "NVS",
        4 => "GRID",
        5 => "GeForce",
        6 => "Titan",
        7 => "NvidiaVApps",
        8 => "NvidiaVPC",
        9 => "NvidiaVCS",
        10 => "NvidiaVWS",
        11 => "NvidiaCloudGaming",
        12 => "QuadroRTX",
        13 => "NvidiaRTX",
        14 => "Nvidia",
        15 => "GeForceRTX",
        16 => "TitanRTX",
        _ => "Unknown",
    };

    /// <summary>
    /// "535.261.03" → "535.261.3": DRA version attributes must be semver, which forbids leading zeros
    /// and wants three components.
    /// </summary>
    public static string DriverVersion(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var parts = raw.Trim().Split('.', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => ulong.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n.ToString(CultureInfo.InvariantCulture) : null)
            .ToList();
        if (parts.Count == 0 || parts.Any(p => p is null))
        {
            return "0.0.0";
        }

        while (parts.Count < 3)
        {
            parts.Add("0");
        }

        return string.Join('.', parts.Take(3));
    }

    /// <summary>12020 → "12.2.0" (CUDA encodes 1000 * major + 10 * minor).</summary>
    public static string CudaVersion(int encoded) =>
        string.Create(CultureInfo.InvariantCulture, $"{encoded / 1000}.{encoded % 1000 / 10}.0");
}
