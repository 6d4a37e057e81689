namespace SecureDra.TestKit;

/// <summary>
/// A directory that lives as long as the test run, for files a test class caches statically (a chart rendered once and
/// read by several tests): no test can delete such a file, since none knows it is the last reader. The leak-checking
/// framework deletes the directory after the last test (<see cref="LeakCheck.LeakCheckingTestFramework"/>).
/// </summary>
public static class TestRunDirectory
{
    private static readonly Lazy<string> Root = new(
        () => Directory.CreateDirectory(System.IO.Path.Combine("/tmp", "sdra-run-" + Guid.NewGuid().ToString("N")[..12])).FullName,
        LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The path of <paramref name="name"/> in the run's directory (created on first use).</summary>
    public static string File(string name) => System.IO.Path.Combine(Root.Value, name);

    /// <summary>Deletes the directory, if this run made one.</summary>
    public static void Delete()
    {
        if (Root.IsValueCreated && Directory.Exists(Root.Value))
        {
            Directory.Delete(Root.Value, recursive: true);
        }
    }
}
