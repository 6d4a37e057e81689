namespace SecureDra.TestKit;

/// <summary>Where the repository and the built <c>securedra</c> executable are, seen from a test assembly.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>The directory holding SecureDra.sln.</summary>
    public static string Root => RootPath.Value;

    /// <summary>Release or Debug: the configuration this test assembly was built in (the executable must match it).</summary>
    public static string Configuration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>
    /// securedra.dll: copied next to the tests when the test project references src/Cli, otherwise the one src/Cli built
    /// in the same configuration. Run it with <c>dotnet</c>.
    /// </summary>
    public static string CliDll
    {
        get
        {
            var beside = Path.Combine(AppContext.BaseDirectory, "securedra.dll");
            if (File.Exists(beside))
            {
                return beside;
            }

            var built = Path.Combine(Root, "src", "Cli", "bin", Configuration, "net10.0", "securedra.dll");
            Assert.True(File.Exists(built), $"build src/Cli first: {built} is missing");
            return built;
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SecureDra.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"SecureDra.sln not found above {AppContext.BaseDirectory}");
    }
}
