namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>
/// Reading a simulated GPU's memory from outside the GPU layer, as a second tenant (or a test) looking
/// for what the first one left: the demo and the canary tests count what is left in the <c>.vram</c> file.
/// Reads through the file, not the mapping, so it sees exactly what another process would.
/// </summary>
public static class SimulatedVramFile
{
    /// <summary>Bytes of the file that are not zero.</summary>
    public static async Task<long> CountNonZeroBytesAsync(string path, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 20];
        long nonZero = 0;
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        await using (file.ConfigureAwait(false))
        {
            int read;
            while ((read = await file.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                nonZero += read - buffer.AsSpan(0, read).Count((byte)0);
            }
        }

        return nonZero;
    }
}
