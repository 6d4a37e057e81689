using System.Diagnostics;
using SecureDra.LocalCluster.ApiServer;

namespace SecureDra.Cli.Tests;

/// <summary>
/// <c>securedra audit --kubeconfig</c> for real: the local API server loaded with the rendered chart by kubectl, a
/// kubeconfig whose user is an exec credential plugin (a bash script), and the same files audited offline.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class LiveAuditCliTests : IAsyncLifetime
{
    private const string TenantObjects = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: tenant-b}
        ---
        apiVersion: resource.k8s.io/v1
        kind: ResourceClaim
        metadata: {name: training, namespace: tenant-b}
        spec:
          devices:
            requests:
            - name: gpu
              exactly: {deviceClassName: securedra-gpu-exclusive}
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("securedra-live-audit-").FullName;
    private LocalApiServer _server = null!;

    private string Manifests => Path.Combine(_dir, "manifests");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Manifests);
        File.Copy(Path.Combine(CliProcess.RepoRoot, "deploy", "manifests", "securedra.yaml"), Path.Combine(Manifests, "securedra.yaml"));
        await File.WriteAllTextAsync(Path.Combine(Manifests, "tenants.yaml"), TenantObjects);
        _server = await LocalApiServer.StartAsync(new LocalApiServerOptions(), CancellationToken.None);
        await KubectlApplyAsync(Path.Combine(Manifests, "securedra.yaml"));
        await KubectlApplyAsync(Path.Combine(Manifests, "tenants.yaml"));

        var plugin = Path.Combine(_dir, "creds", "plugin.sh");
        Directory.CreateDirectory(Path.GetDirectoryName(plugin)!);
        await File.WriteAllTextAsync(plugin, """
            #!/bin/bash
            echo run >> "$(dirname "$0")/runs"
            printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"exec-token"}}'
            """.ReplaceLineEndings("\n"));
        File.SetUnixFileMode(plugin, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await File.WriteAllTextAsync(Path.Combine(_dir, "creds", "users.yaml"), """
            apiVersion: v1
            kind: Config
            users:
            - name: platform
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1beta1
                  command: ./plugin.sh
            """);
        await File.WriteAllTextAsync(Path.Combine(_dir, "cluster.yaml"), $"""
            apiVersion: v1
            kind: Config
            current-context: local
            contexts:
            - name: local
              context: {"{"}cluster: local, user: platform{"}"}
            clusters:
            - name: local
              cluster: {"{"}server: "{_server.BaseAddress.ToString().TrimEnd('/')}"{"}"}
            """);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task KubectlApplyAsync(string file)
    {
        var start = new ProcessStartInfo(CliProcess.Kubectl) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--server", _server.BaseAddress.ToString().TrimEnd('/'), "--cache-dir", Path.Combine(_dir, ".kube-cache"), "apply", "-f", file })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["KUBECONFIG"] = Path.Combine(_dir, "no-kubeconfig");
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"kubectl apply -f {file}: {await stderr}");
    }

    [Fact]
    public async Task Live_audit_through_a_merged_KUBECONFIG_with_an_exec_plugin_reports_what_the_offline_audit_reports()
    {
        // KUBECONFIG as a platform engineer has it: a missing file, the cluster file, then the users file (relative command).
        var kubeconfig = string.Join(':', Path.Combine(_dir, "missing.yaml"), Path.Combine(_dir, "cluster.yaml"), Path.Combine(_dir, "creds", "users.yaml"));

        var live = await CliProcess.RunAsync(new Dictionary<string, string?> { ["KUBECONFIG"] = kubeconfig }, "audit", "--output", "json");
        var offline = await CliProcess.RunAsync("audit", "--manifests", Manifests, "--output", "json");

        Assert.True(live.ExitCode == 1, $"live: exit {live.ExitCode}\n{live.Stdout}\n{live.Stderr}");
        Assert.True(offline.ExitCode == 1, $"offline: exit {offline.ExitCode}\n{offline.Stdout}\n{offline.Stderr}");
        Assert.Equal(offline.Stdout, live.Stdout);
        Assert.Contains("\"name\": \"tenant-b\"", live.Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, "creds", "runs")), "the exec plugin never ran");
        Assert.Contains(_server.RequestLog.Entries, e => e.Path == "/apis/resource.k8s.io/v1/resourceclaims" && e.Verb == "list");
    }
}
