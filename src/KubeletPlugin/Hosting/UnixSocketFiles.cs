using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace SecureDra.KubeletPlugin.Hosting;

/// <summary>
/// File-system side of the two listening sockets: directory creation, stale-file removal before
/// bind (Kestrel fails with "address already in use" otherwise), 0600 after bind, removal on stop.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class UnixSocketFiles(ILogger<UnixSocketFiles> logger)
{
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;

    public const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly Dictionary<string, DateTime> _owned = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Creates <paramref name="directory"/> if missing; with <paramref name="enforceMode"/> also tightens an existing one to 0750.</summary>
    public void EnsureDirectory(string directory, bool enforceMode)
    {
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, DirectoryMode);
            File.SetUnixFileMode(directory, DirectoryMode);
        }
        else if (enforceMode)
        {
            File.SetUnixFileMode(directory, DirectoryMode);
        }
    }

    /// <summary>
    /// Removes whatever is left at <paramref name="path"/> from an earlier run: a regular file or a
    /// socket nobody listens on. A socket that still answers belongs to a live instance: refusing is
    /// safer than stealing it (a second instance needs <c>--pod-uid</c>).
    /// </summary>
    public void RemoveStale(string path)
    {
        if (Directory.Exists(path))
        {
            throw new KubeletPluginConfigurationException($"socket path \"{path}\" is a directory; remove it or choose another directory");
        }

        if (!File.Exists(path))
        {
            return;
        }

        if (IsListening(path))
        {
            throw new KubeletPluginConfigurationException(
                $"socket \"{path}\" is in use by a running process; stop it first, or run side by side with --pod-uid");
        }

        File.Delete(path);
        LogRemovedStale(path);
    }

    /// <summary>Sets 0600 on a freshly bound socket and remembers it as ours, so stop removes only what this process created.</summary>
    public void ClaimBoundSocket(string path)
    {
        File.SetUnixFileMode(path, SocketMode);
        lock (_lock)
        {
            _owned[path] = File.GetLastWriteTimeUtc(path);
        }
    }

    /// <summary>Deletes the socket if it is still the one this process bound (a successor may have replaced it).</summary>
    public void RemoveOwned(string path)
    {
        DateTime stamp;
        lock (_lock)
        {
            if (!_owned.Remove(path, out stamp))
            {
                return;
            }
        }

        try
        {
            if (File.Exists(path) && File.GetLastWriteTimeUtc(path) == stamp)
            {
                File.Delete(path);
                LogRemoved(path);
            }
        }
        catch (IOException ex)
        {
            LogRemoveFailed(ex, path);
        }
        catch (UnauthorizedAccessException ex)
        {
            LogRemoveFailed(ex, path);
        }
    }

    private static bool IsListening(string path)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
