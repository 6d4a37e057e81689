namespace SecureDra.Compatibility.Tests;

/// <summary>A private temp directory (short path: Unix socket paths are limited to 107 bytes).</summary>
public sealed class TempDir : IDisposable
{
    private TempDir(string path) => Path = path;

    public string Path { get; }

    public static TempDir Create()
    {
        var path = System.IO.Path.Combine("/tmp", "sdc-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(path);
        return new TempDir(path);
    }

    public string Sub(string name)
    {
        var full = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(full);
        return full;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
