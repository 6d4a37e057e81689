namespace SecureDra.TestKit;

/// <summary>
/// A tenant's secret planted straight into a simulated GPU's VRAM file (<c>--gpu-backend simulated</c>), and the checks
/// that it is gone. The one copy the tests share; the demo (product code) keeps its own, since the product never
/// references test code.
/// </summary>
public static class TenantCanary
{
    /// <summary>The default secret: recognisable in a hex dump and in a failure message.</summary>
    public static readonly byte[] Secret = "TENANT-A-SECRET-CANARY"u8.ToArray();

    /// <summary>Writes <paramref name="secret"/> (default <see cref="Secret"/>) at every offset and flushes it to disk.</summary>
    public static void Write(string vramPath, IEnumerable<long> offsets, byte[]? secret = null)
    {
        ArgumentNullException.ThrowIfNull(offsets);
        using var file = new FileStream(vramPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        foreach (var offset in offsets)
        {
            file.Position = offset;
            file.Write(secret ?? Secret);
        }

        file.Flush(flushToDisk: true);
    }

    /// <summary>Writes <paramref name="secret"/> at every offset and flushes it to disk.</summary>
    public static void Write(string vramPath, byte[] secret, params long[] offsets) => Write(vramPath, offsets, secret);

    /// <summary>The bytes at each offset, <paramref name="length"/> each, concatenated.</summary>
    public static byte[] ReadSpots(string vramPath, IEnumerable<long> offsets, int length)
    {
        ArgumentNullException.ThrowIfNull(offsets);
        using var file = new FileStream(vramPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var all = new List<byte>();
        foreach (var offset in offsets)
        {
            var buffer = new byte[length];
            file.Position = offset;
            file.ReadExactly(buffer);
            all.AddRange(buffer);
        }

        return [.. all];
    }

    /// <summary>Whether <paramref name="secret"/> (default <see cref="Secret"/>) is anywhere in the VRAM file.</summary>
    public static bool IsPresent(string vramPath, byte[]? secret = null) =>
        File.ReadAllBytes(vramPath).AsSpan().IndexOf(secret ?? Secret) >= 0;

    /// <summary>Whether any byte of the VRAM file is not zero (a scrub zeroes all of it).</summary>
    public static bool HasNonZero(string vramPath) =>
        File.ReadAllBytes(vramPath).AsSpan().IndexOfAnyExcept((byte)0) >= 0;
}
