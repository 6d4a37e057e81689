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
    /// The securedra.dll a test assembly runs by default: the test build (<see cref="TestBuildDll"/>) when the test
    /// project declares <c>&lt;AssemblyMetadata Include="SecureDra.TestKit.Executable" Value="test-build" /&gt;</c>
    /// (its tests inject failures: crash points, fault files, the fault endpoint), otherwise the shipped build
    /// (<see cref="ShippedDll"/>). Run it with <c>dotnet</c>.
    /// </summary>
    public static string CliDll => UsesTestBuild.Value ? TestBuildDll : ShippedDll;

    /// <summary>
    /// The shipped build's securedra.dll: copied next to the tests when the test project references src/Cli,
    /// otherwise the one src/Cli built in the same configuration.
    /// </summary>
    public static string ShippedDll
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

    private static readonly Lazy<bool> UsesTestBuild = new(() => AppDomain.CurrentDomain.GetAssemblies()
        .SelectMany(a => a.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), inherit: false).Cast<System.Reflection.AssemblyMetadataAttribute>())
        .Any(m => m.Key == "SecureDra.TestKit.Executable" && m.Value == "test-build"));

    /// <summary>
    /// The test build of securedra (tests/TestBuild: src/Cli's sources with SECUREDRA_TEST_HOOKS, so crash points,
    /// fault files and the fault endpoint exist). Never shipped; the tests that inject failures run it by path.
    /// </summary>
    public static string TestBuildDll
    {
        get
        {
            var built = Path.Combine(Root, "tests", "TestBuild", "bin", Configuration, "net10.0", "securedra.dll");
            Assert.True(File.Exists(built), $"build tests/TestBuild first: {built} is missing");
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
