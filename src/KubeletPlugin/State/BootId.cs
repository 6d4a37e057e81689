namespace SecureDra.KubeletPlugin.State;

/// <summary>Reads the kernel's per-boot random ID; a change since the checkpoint was written means the node rebooted.</summary>
public static class BootId
{
    /// <summary>Null when the file is absent (not Linux, or /proc hidden): reboot detection is then off, and logged.</summary>
    public static async Task<string?> ReadAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            var text = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
            var id = text.Trim();
            return id.Length is > 0 and <= 64 ? id : null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
