namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>One entry of the kubelet's registry directory: its path relative to the directory, and whether it may be a socket (not a symlink).</summary>
public sealed record RegistryEntry(string RelativePath, bool IsSocket);

/// <summary>
/// Proxy mode, offline: the kubelet's registry directory (which the kubelet walks recursively) must hold no
/// registration of the proxied driver name besides the proxy's own. A vendor socket left there (NVIDIA's chart
/// installed without moving kubeletPlugin.kubeletRegistrarDirectoryPath, or a vendor restarted with its defaults)
/// would be called by the kubelet instead of the proxy, silently bypassing the scrub.
/// </summary>
/// <remarks>
/// A node-side check because only the node sees this directory; the controller's cluster audit cannot. It reads
/// names only (no GetInfo, so it runs on a listing or a copy of the directory): registration sockets are named
/// <c>&lt;driver&gt;-reg.sock</c> or <c>&lt;driver&gt;-&lt;podUID or hash&gt;-reg.sock</c> by the Go helper and by
/// SecureDra; <c>dra-&lt;hash&gt;-reg.sock</c> (the helper's last fall-back) does not name its driver and is
/// reported as advisory for the live check (the proxy's guard asks it GetInfo). A socket whose own name starts
/// with '.' is ignored, as the kubelet's plugin watcher ignores it; one inside a dot-directory is not (the kubelet's
/// start-up walk descends into every directory and checks only the socket's name). The walk is bounded and follows
/// no symlinks, like the kubelet's.
/// </remarks>
public sealed class KubeletRegistryCheck(string registryDirectory, string driverName, IReadOnlyCollection<string> ownSockets) : INodeCheck
{
    public const int MaxEntries = 4096;

    public const int MaxDepth = 8;

    public string Name => "kubelet-registry";

    public IReadOnlyList<NodeFinding> Run()
    {
        List<RegistryEntry> listing;
        try
        {
            listing = List(registryDirectory, out var truncated);
            if (truncated)
            {
                return [new NodeFinding("kubelet-registry-unreadable", "-", NodeFindingState.Open, registryDirectory,
                    $"more than {MaxEntries} entries or deeper than {MaxDepth} levels: cannot be checked completely", "remove stale sockets and directories from the kubelet's registry")];
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [new NodeFinding("kubelet-registry-unreadable", "-", NodeFindingState.Open, registryDirectory, $"cannot be listed: {ex.Message}", "mount the kubelet's registry directory into the proxy")];
        }

        return Evaluate(listing, registryDirectory, driverName, ownSockets);
    }

    /// <summary>The findings for a listing of the registry (relative paths), the proxied driver name and the proxy's own socket paths.</summary>
    public static IReadOnlyList<NodeFinding> Evaluate(IEnumerable<RegistryEntry> listing, string registryDirectory, string driverName, IReadOnlyCollection<string> ownSockets)
    {
        ArgumentNullException.ThrowIfNull(listing);
        ArgumentException.ThrowIfNullOrEmpty(driverName);
        ArgumentNullException.ThrowIfNull(ownSockets);
        var own = ownSockets.Select(Normalize).ToHashSet(StringComparer.Ordinal);
        var findings = new List<NodeFinding>();
        var rivals = new List<string>();
        foreach (var entry in listing.Take(MaxEntries))
        {
            var path = Normalize(entry.RelativePath);
            var name = path[(path.LastIndexOf('/') + 1)..];
            if (!entry.IsSocket || name.StartsWith('.') || own.Contains(path) || !name.EndsWith("-reg.sock", StringComparison.Ordinal))
            {
                continue;
            }

            var source = registryDirectory.TrimEnd('/') + "/" + path;
            if (name == $"{driverName}-reg.sock" || name.StartsWith($"{driverName}-", StringComparison.Ordinal))
            {
                rivals.Add(source);
            }
            else if (name.StartsWith("dra-", StringComparison.Ordinal))
            {
                findings.Add(new NodeFinding("kubelet-registry-unnamed-registration", "B5", NodeFindingState.Advisory, source,
                    "a registration socket that does not name its driver: it may register the proxied driver",
                    "check it with the proxy's live registry guard (GetInfo) or remove it if stale"));
            }
        }

        // Offline without the proxy's own socket name (own is empty) one registration may be the proxy's: only two or
        // more are certainly a rival; a single one is left for the operator to confirm.
        if (own.Count > 0 || rivals.Count > 1)
        {
            findings.InsertRange(0, rivals.Select(source => new NodeFinding("kubelet-registry-rival-registration", "B5", NodeFindingState.Open, source,
                own.Count > 0
                    ? $"a second registration of driver {driverName} is in the kubelet's registry: the kubelet calls the newest connected plugin of a name, so claims may bypass the proxy and its scrub"
                    : $"{rivals.Count} registrations of driver {driverName} are in the kubelet's registry: the kubelet calls the newest connected plugin of a name, so claims may bypass the proxy and its scrub",
                "move the vendor plugin to the proxy's --vendor-registry-directory-path (NVIDIA chart: kubeletPlugin.kubeletRegistrarDirectoryPath) and remove this socket")));
        }
        else if (rivals.Count == 1)
        {
            findings.Insert(0, new NodeFinding("kubelet-registry-single-registration", "B5", NodeFindingState.Advisory, rivals[0],
                $"the only registration of driver {driverName}: it must be the proxy's (named after the proxy pod's UID), not the vendor's",
                "compare it with the proxy pod's UID; if it is the vendor's, move the vendor plugin to the proxy's --vendor-registry-directory-path"));
        }

        return findings;
    }

    /// <summary>Relative paths of every entry below <paramref name="directory"/>, breadth first, bounded; symlinks are listed, not followed.</summary>
    public static List<RegistryEntry> List(string directory, out bool truncated)
    {
        truncated = false;
        var result = new List<RegistryEntry>();
        var pending = new Queue<(string Path, int Depth)>();
        pending.Enqueue((directory, 0));
        while (pending.Count > 0)
        {
            var (current, depth) = pending.Dequeue();
            foreach (var info in new DirectoryInfo(current).EnumerateFileSystemInfos())
            {
                if (result.Count >= MaxEntries)
                {
                    truncated = true;
                    return result;
                }

                var relative = Path.GetRelativePath(directory, info.FullName);
                var isLink = info.LinkTarget is not null;
                if (info is DirectoryInfo && !isLink)
                {
                    if (depth + 1 >= MaxDepth)
                    {
                        truncated = true;
                        return result;
                    }

                    pending.Enqueue((info.FullName, depth + 1));
                    continue;
                }

                // .NET cannot tell a socket from a regular file without a stat binding; a non-directory that is not a
                // symlink counts as a possible socket. A regular file with a registration name is reported too: the
                // finding errs towards the operator's attention, never towards a missed rival.
                result.Add(new RegistryEntry(relative, IsSocket: !isLink));
            }
        }

        return result;
    }

    private static string Normalize(string path)
    {
        var normalized = path.Replace('\\', '/');
        while (normalized.StartsWith("./", StringComparison.Ordinal))
        {
            normalized = normalized[2..];
        }

        return normalized.TrimStart('/');
    }
}
