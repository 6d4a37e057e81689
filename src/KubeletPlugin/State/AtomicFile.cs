using System.Security.Cryptography;

namespace SecureDra.KubeletPlugin.State;

/// <summary>
/// Crash-safe replacement of a file: write a temporary file in the same directory, fsync it,
/// rename it over the target, fsync the directory. A reader sees the old or the new content,
/// never a mix. The temporary name ends in <c>.tmp</c> (which CDI runtimes ignore) and is
/// removed on any failure.
/// </summary>
public static class AtomicFile
{
    /// <summary>Readable by the container runtime (CDI specs): 0644.</summary>
    public const UnixFileMode WorldReadable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>Only the plugin (the checkpoint names every tenant's claims): 0600.</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static Task WriteAsync(string directory, string fileName, ReadOnlyMemory<byte> content, CancellationToken cancellationToken) =>
        WriteAsync(directory, fileName, content, WorldReadable, cancellationToken);

    /// <summary>
    /// Runs on the calling thread and returns a completed task (a failure is a faulted task, as from any async
    /// method): the files written here are a few KiB (a CDI spec, the checkpoint), whose write(2) into the page cache
    /// costs microseconds, while <c>WriteAsync</c> on a file opened without <see cref="FileOptions.Asynchronous"/> is a
    /// hop to the thread pool and back; the fsyncs that follow were always synchronous. A caller that wants two of
    /// these at once starts one on the pool itself.
    /// </summary>
    public static Task WriteAsync(string directory, string fileName, ReadOnlyMemory<byte> content, UnixFileMode mode, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        try
        {
            Write(directory, fileName, content.Span, mode);
            return Task.CompletedTask;
        }
        catch (Exception ex)
        {
            return Task.FromException(ex);
        }
    }

    private static void Write(string directory, string fileName, ReadOnlySpan<byte> content, UnixFileMode mode)
    {
        EnsurePlainName(fileName);
        var target = Path.Combine(directory, fileName);
        var temp = Path.Combine(directory, $".{fileName}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.tmp");
        try
        {
            // BufferSize 0: the content goes to the file in one call straight from the caller's buffer, no copy.
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0 };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = mode;
            }

            using (var stream = new FileStream(temp, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, target, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }

        PosixFileSystem.FsyncDirectory(directory);
    }

    /// <summary>Deletes a file durably; false when it did not exist.</summary>
    public static bool Delete(string directory, string fileName)
    {
        EnsurePlainName(fileName);
        var path = Path.Combine(directory, fileName);
        if (!File.Exists(path))
        {
            return false;
        }

        File.Delete(path);
        PosixFileSystem.FsyncDirectory(directory);
        return true;
    }

    private static void EnsurePlainName(string fileName)
    {
        if (fileName.Length == 0 || fileName.Contains('/', StringComparison.Ordinal) || fileName.Contains('\0', StringComparison.Ordinal) || fileName is "." or "..")
        {
            throw new ArgumentException($"not a plain file name: {fileName}", nameof(fileName));
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
