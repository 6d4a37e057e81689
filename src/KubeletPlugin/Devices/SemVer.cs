using System.Globalization;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// Turns NVML's version strings into the strict semver the API server requires for version
/// attributes: "12.2" → "12.2.0", "535.261.03" → "535.261.3". A value that is not made of one to
/// three numeric parts yields null, and the attribute is left out rather than have the API
/// server reject the whole slice (ROCm/gpu-operator#609).
/// </summary>
public static class SemVer
{
    public static string? Normalize(string? raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        var parts = raw.Trim().Split('.');
        if (parts.Length is < 1 or > 3)
        {
            return null;
        }

        var numbers = new long[3];
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (part.Length is 0 or > 18 || !part.All(char.IsAsciiDigit))
            {
                return null;
            }

            numbers[i] = long.Parse(part, NumberStyles.None, CultureInfo.InvariantCulture);
        }

        return string.Create(CultureInfo.InvariantCulture, $"{numbers[0]}.{numbers[1]}.{numbers[2]}");
    }
}
