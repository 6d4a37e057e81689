namespace SecureDra.UpstreamWire.Tests;

/// <summary>Where the repository, the built <c>securedra</c> executable, the node client and its npm packages are.</summary>
internal static class RepoPaths
{
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SecureDra.sln")))
            {
                dir = dir.Parent;
            }

            Assert.True(dir is not null, $"no SecureDra.sln above {AppContext.BaseDirectory}");
            return dir.FullName;
        }
    }

    public static string KubeletClientScript => Path.Combine(Root, "tests", "UpstreamWire.Tests", "js", "kubelet-client.mjs");

    public static string ToolsDir =>
        Environment.GetEnvironmentVariable("SECUREDRA_TOOLS_DIR") is { Length: > 0 } dir ? dir : Path.Combine(Root, ".tools");
}
