using System.Text.Json.Nodes;

namespace SecureDra.Controller.Audit.Sources;

/// <summary>
/// Reads every *.yaml, *.yml and *.json under a directory (recursively, symlinks not followed) into a snapshot.
/// Bounded in file count and size so a wrong path (e.g. /) fails with a clear message instead of reading the disk.
/// </summary>
public sealed class ManifestDirectorySnapshotSource(string directory, IManifestReader reader) : ISnapshotSource
{
    public int MaxFiles { get; init; } = 10_000;

    public long MaxFileBytes { get; init; } = 4 * 1024 * 1024;

    public Task<ClusterSnapshot> LoadAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"--manifests {directory}: not a directory");
        }

        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = false, MatchType = MatchType.Simple };
        var files = Directory.EnumerateFiles(directory, "*", options)
            .Where(f => Path.GetExtension(f) is ".yaml" or ".yml" or ".json")
            .Take(MaxFiles + 1)
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count > MaxFiles)
        {
            throw new InvalidOperationException($"--manifests {directory}: more than {MaxFiles} manifest files");
        }

        var objects = new List<JsonObject>();
        foreach (var file in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var length = new FileInfo(file).Length;
            if (length > MaxFileBytes)
            {
                throw new InvalidOperationException($"{file}: {length} bytes exceeds the limit of {MaxFileBytes} bytes per manifest file");
            }

            objects.AddRange(reader.Read(File.ReadAllText(file), Path.GetRelativePath(directory, file)));
        }

        return Task.FromResult(ClusterSnapshot.FromObjects(objects));
    }
}
