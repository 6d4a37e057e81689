namespace SecureDra.TestKit;

/// <summary>
/// A private directory for one test, deleted (best effort) on dispose. The path is short on purpose: it often holds
/// Unix sockets, whose paths the kernel limits to 107 bytes, so a long TMPDIR is not used.
/// </summary>
public sealed class TempDir : IDisposable
{
    private const int MaxSocketDirectoryLength = 60;

    public TempDir()
        : this("sd")
    {
    }

    private TempDir(string prefix)
    {
        var root = System.IO.Path.GetTempPath();
        if (root.Length > MaxSocketDirectoryLength - 20 && Directory.Exists("/tmp"))
        {
            root = "/tmp";
        }

        Path = System.IO.Path.Combine(root, prefix + "-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    /// <summary>The directory's full path.</summary>
    public string Path { get; }

    /// <summary>A new temp directory whose name starts with <paramref name="prefix"/> (to tell the suites' leftovers apart).</summary>
    public static TempDir Create(string prefix = "sd") => new(prefix);

    /// <summary>The full path of <paramref name="name"/> inside the directory (nothing is created).</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Creates (if needed) and returns the sub-directory <paramref name="name"/>.</summary>
    public string Sub(string name) => Directory.CreateDirectory(System.IO.Path.Combine(Path, name)).FullName;

    /// <summary>Writes <paramref name="content"/> to <paramref name="name"/> (creating its directories) and returns the full path.</summary>
    public string Write(string name, string content)
    {
        var full = File(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        System.IO.File.WriteAllText(full, content);
        return full;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a socket a killed child left behind, or a file a test made read-only, must not fail the test.
        }
    }
}
