using System.Security.Cryptography;

namespace SecureDra.Cli.Demo;

/// <summary>The demo's reads and writes of a simulated GPU's memory file, for a byte range (a MIG instance's slices).</summary>
internal static class DemoVram
{
    public static async Task WriteTextAsync(string path, IReadOnlyList<long> offsets, string text, CancellationToken ct)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(text);
        var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        await using (file.ConfigureAwait(false))
        {
            foreach (var offset in offsets)
            {
                file.Position = offset;
                await file.WriteAsync(bytes, ct).ConfigureAwait(false);
            }

            await file.FlushAsync(ct).ConfigureAwait(false);
        }
    }

    public static async Task<int> CountTextAsync(string path, IReadOnlyList<long> offsets, string text, CancellationToken ct)
    {
        var expected = System.Text.Encoding.ASCII.GetBytes(text);
        var buffer = new byte[expected.Length];
        var found = 0;
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        await using (file.ConfigureAwait(false))
        {
            foreach (var offset in offsets)
            {
                file.Position = offset;
                await file.ReadExactlyAsync(buffer, ct).ConfigureAwait(false);
                found += buffer.AsSpan().SequenceEqual(expected) ? 1 : 0;
            }
        }

        return found;
    }

    public static async Task<string> HashAsync(string path, long offset, long length, CancellationToken ct)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        await using (file.ConfigureAwait(false))
        {
            file.Position = offset;
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 20];
            for (var left = length; left > 0;)
            {
                var read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), ct).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new EndOfStreamException($"{path} ends before byte {offset + length}");
                }

                hash.AppendData(buffer, 0, read);
                left -= read;
            }

            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
    }

    public static async Task<long> CountNonZeroAsync(string path, long offset, long length, CancellationToken ct)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        await using (file.ConfigureAwait(false))
        {
            file.Position = offset;
            var buffer = new byte[1 << 20];
            long nonZero = 0;
            for (var left = length; left > 0;)
            {
                var read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), ct).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new EndOfStreamException($"{path} ends before byte {offset + length}");
                }

                nonZero += read - buffer.AsSpan(0, read).Count((byte)0);
                left -= read;
            }

            return nonZero;
        }
    }
}
