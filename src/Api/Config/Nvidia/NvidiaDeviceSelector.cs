namespace SecureDra.Api.Config.Nvidia;

/// <summary>
/// A key of <c>defaultPerDevicePinnedMemoryLimit</c>: the vendor accepts a GPU UUID or a decimal index
/// into the claim's devices (strconv.Atoi, which also takes "+1", "-0" and "007"). Only the canonical
/// forms are accepted here, so one device cannot be named twice under different spellings.
/// </summary>
public static class NvidiaDeviceSelector
{
    public const string Description = "a device index 0-63 without sign or leading zeros, or a GPU-/MIG- UUID";

    public static bool IsValid(string key)
    {
        if (key.Length is > 0 and <= 2 && key.All(char.IsAsciiDigit))
        {
            return (key.Length == 1 || key[0] != '0') && int.Parse(key, System.Globalization.CultureInfo.InvariantCulture) < NvidiaConfigSchema.MaxPerDeviceLimits;
        }

        if (key.Length != 40 || !(key.StartsWith("GPU-", StringComparison.Ordinal) || key.StartsWith("MIG-", StringComparison.Ordinal)))
        {
            return false;
        }

        for (var i = 4; i < key.Length; i++)
        {
            var dash = i - 4 is 8 or 13 or 18 or 23;
            if (dash ? key[i] != '-' : !char.IsAsciiHexDigit(key[i]))
            {
                return false;
            }
        }

        return true;
    }
}
