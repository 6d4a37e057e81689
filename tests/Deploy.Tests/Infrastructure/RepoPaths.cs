namespace SecureDra.Deploy.Tests.Infrastructure;

/// <summary>Where the repository, the chart and the npm tools are.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Chart => Path.Combine(Root, "deploy", "helm", "securedra");

    public static string Manifests => Path.Combine(Root, "deploy", "manifests");

    public static string Scripts => Path.Combine(Root, "tests", "Deploy.Tests", "js");

    public static string ToolsDir =>
        Environment.GetEnvironmentVariable("SECUREDRA_TOOLS_DIR") is { Length: > 0 } dir ? dir : Path.Combine(Root, ".tools");

    public static string Helm
    {
        get
        {
            var local = Path.Combine(ToolsDir, "bin", "helm");
            return File.Exists(local) ? local : "helm";
        }
    }

    public static string Kubectl
    {
        get
        {
            var local = Path.Combine(ToolsDir, "bin", "kubectl");
            return File.Exists(local) ? local : "kubectl";
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
