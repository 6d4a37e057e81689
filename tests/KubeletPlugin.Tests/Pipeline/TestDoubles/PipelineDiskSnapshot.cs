namespace SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

/// <summary>
/// The plugin's files (checkpoint and CDI specs) at one instant, taken at a crash point and put back before the restart:
/// what kill -9 leaves on disk. GPU memory is not part of it (it keeps whatever the crash left there).
/// </summary>
public sealed record PipelineDiskSnapshot(byte[]? Checkpoint, IReadOnlyDictionary<string, byte[]> Cdi)
{
    public static PipelineDiskSnapshot Take(PipelineHarness h)
    {
        ArgumentNullException.ThrowIfNull(h);
        var checkpoint = File.Exists(h.CheckpointPath) ? File.ReadAllBytes(h.CheckpointPath) : null;
        var cdi = Directory.Exists(h.CdiRoot) ? Directory.EnumerateFiles(h.CdiRoot).ToDictionary(p => p, File.ReadAllBytes, StringComparer.Ordinal) : [];
        return new PipelineDiskSnapshot(checkpoint, cdi);
    }

    /// <summary>Puts the files back: a checkpoint that did not exist then is deleted, CDI specs written since are removed.</summary>
    public async Task RestoreAsync(PipelineHarness h)
    {
        ArgumentNullException.ThrowIfNull(h);
        if (Checkpoint is null)
        {
            File.Delete(h.CheckpointPath);
        }
        else
        {
            await File.WriteAllBytesAsync(h.CheckpointPath, Checkpoint);
        }

        if (Directory.Exists(h.CdiRoot))
        {
            foreach (var path in Directory.EnumerateFiles(h.CdiRoot).Where(p => !Cdi.ContainsKey(p)))
            {
                File.Delete(path);
            }
        }

        foreach (var (path, bytes) in Cdi)
        {
            await File.WriteAllBytesAsync(path, bytes);
        }
    }
}
