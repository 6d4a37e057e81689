using System.Diagnostics;
using SecureDra.LocalCluster.ApiServer;

namespace SecureDra.Controller.Tests.Support;

/// <summary>
/// The local API server loaded with the rendered chart (deploy/manifests) plus extra objects, applied with the real
/// kubectl (.tools/bin/kubectl, or kubectl on PATH), and the same files in a directory for <c>audit --manifests</c>.
/// </summary>
internal sealed class ChartCluster : IAsyncDisposable
{
    private ChartCluster(LocalApiServer server, TempDir manifests)
    {
        Server = server;
        Manifests = manifests;
    }

    public LocalApiServer Server { get; }

    public TempDir Manifests { get; }

    public string ServerUrl => Server.BaseAddress.ToString().TrimEnd('/');

    public static string RepoRoot { get; } = FindRoot();

    public static string Kubectl
    {
        get
        {
            var tools = Environment.GetEnvironmentVariable("SECUREDRA_TOOLS_DIR") is { Length: > 0 } dir ? dir : Path.Combine(RepoRoot, ".tools");
            var local = Path.Combine(tools, "bin", "kubectl");
            return File.Exists(local) ? local : "kubectl";
        }
    }

    public static async Task<ChartCluster> StartAsync(string extraManifests)
    {
        var manifests = new TempDir();
        File.Copy(Path.Combine(RepoRoot, "deploy", "manifests", "securedra.yaml"), manifests.File("securedra.yaml"));
        await File.WriteAllTextAsync(manifests.File("tenants.yaml"), extraManifests);
        var server = await LocalApiServer.StartAsync(new LocalApiServerOptions(), CancellationToken.None);
        var cluster = new ChartCluster(server, manifests);
        // Two passes: kubectl applies files in name order, and the tenant namespaces must exist before their objects.
        await cluster.KubectlAsync("apply", "-f", manifests.File("securedra.yaml"));
        await cluster.KubectlAsync("apply", "-f", manifests.File("tenants.yaml"));
        return cluster;
    }

    public async Task<string> KubectlAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Kubectl) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--server", ServerUrl, "--cache-dir", Manifests.File(".kube-cache") }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["KUBECONFIG"] = Manifests.File("no-kubeconfig");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"kubectl {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}");
        }

        return await stdout;
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Manifests.Dispose();
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
