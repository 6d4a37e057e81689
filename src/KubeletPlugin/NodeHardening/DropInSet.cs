namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>A main TOML file plus a drop-in directory, read bounded and merged in order (later wins).</summary>
internal static class DropInSet
{
    public static (TomlConfig? Config, List<string> Sources, List<(string Source, string Error)> Errors) Load(NodeHardeningOptions options, string? mainFile, string dropInDirectory, string pattern)
    {
        var files = new List<string>();
        var errors = new List<(string, string)>();
        if (mainFile is not null)
        {
            files.Add(mainFile);
        }

        try
        {
            if (Directory.Exists(dropInDirectory))
            {
                var dropIns = Directory.EnumerateFiles(dropInDirectory, pattern, SearchOption.TopDirectoryOnly).Take(options.MaxDropIns + 1).ToList();
                if (dropIns.Count > options.MaxDropIns)
                {
                    errors.Add((dropInDirectory, $"more than {options.MaxDropIns} drop-in files"));
                    return (null, [], errors);
                }

                files.AddRange(dropIns.Order(StringComparer.Ordinal));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            errors.Add((dropInDirectory, $"cannot be listed ({ex.Message})"));
            return (null, [], errors);
        }

        TomlConfig? merged = null;
        var sources = new List<string>();
        foreach (var path in files)
        {
            var file = NodeFileReader.Read(path, options.MaxFileBytes);
            if (!file.Exists)
            {
                continue;
            }

            if (file.Error is not null)
            {
                errors.Add((path, file.Error));
                continue;
            }

            var parsed = NodeToml.Parse(file.Bytes, path);
            if (parsed.Config is null)
            {
                errors.Add((path, parsed.Error!));
                continue;
            }

            merged = merged is null ? parsed.Config : merged.Then(parsed.Config);
            sources.Add(path);
        }

        return (merged, sources, errors);
    }
}
