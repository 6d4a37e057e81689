namespace SecureDra.UpstreamWire.Tests;

/// <summary>A short-named temp directory (Unix socket paths must stay under 108 bytes), removed on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    private TempDir(string path) => Path = path;

    public string Path { get; }

    public static TempDir Create() => new(Directory.CreateTempSubdirectory("sdra-up-").FullName);

    public string Sub(string name) => Directory.CreateDirectory(System.IO.Path.Combine(Path, name)).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a socket the killed plugin left behind must not fail the test.
        }
    }
}
