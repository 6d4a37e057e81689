using System.Diagnostics;
using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.Tests;

/// <summary>Real kubectl binaries against the local API server; each test is skipped (passes with a note) when kubectl is not installed.</summary>
public class KubectlTests : IDisposable
{
    public static readonly TheoryData<string> Kubectls = new()
    {
        "/usr/lib/google-cloud-sdk/bin/kubectl.1.33",
        "/usr/bin/kubectl",
    };

    private readonly string _dir = Directory.CreateTempSubdirectory("securedra-kubectl-").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private async Task<(int Exit, string Out, string Err)> Kubectl(string kubectl, TestServer t, params string[] args)
    {
        var start = new ProcessStartInfo(kubectl) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--server", t.Server.BaseAddress.ToString().TrimEnd('/'), "--cache-dir", Path.Combine(_dir, "cache"), "--request-timeout", "10s" }.Concat(args))
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["KUBECONFIG"] = Path.Combine(_dir, "none");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static bool Missing(string kubectl)
    {
        if (File.Exists(kubectl))
        {
            return false;
        }

        Console.WriteLine($"SKIPPED: {kubectl} is not installed; kubectl compatibility not checked");
        return true;
    }

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task Apply_creates_then_updates_and_get_json_reads_it(string kubectl)
    {
        if (Missing(kubectl))
        {
            return;
        }

        await using var t = await TestServer.StartAsync("1.33");
        var file = Path.Combine(_dir, "objects.yaml");
        await File.WriteAllTextAsync(file, """
            apiVersion: resource.k8s.io/v1beta2
            kind: ResourceSlice
            metadata:
              name: node-a-gpu
            spec:
              driver: gpu.nvidia.com
              nodeName: node-a
              pool: {name: node-a, generation: 1, resourceSliceCount: 1}
              devices:
              - name: gpu-0
                attributes:
                  driverVersion: {version: "550.54.15"}
                capacity:
                  memory: {value: 80Gi}
            ---
            apiVersion: resource.k8s.io/v1beta1
            kind: DeviceClass
            metadata:
              name: gpu.nvidia.com
            spec:
              selectors:
              - cel: {expression: "device.driver == 'gpu.nvidia.com'"}
            ---
            apiVersion: v1
            kind: Namespace
            metadata:
              name: tenant-a
            """);
        var (exit, stdout, stderr) = await Kubectl(kubectl, t, "apply", "-f", file);
        Assert.True(exit == 0, $"kubectl apply failed ({exit}): {stdout}\n{stderr}");
        Assert.Contains("resourceslice.resource.k8s.io/node-a-gpu created", stdout, StringComparison.Ordinal);

        await File.WriteAllTextAsync(file, (await File.ReadAllTextAsync(file)).Replace("generation: 1", "generation: 2", StringComparison.Ordinal));
        (exit, stdout, stderr) = await Kubectl(kubectl, t, "apply", "-f", file);
        Assert.True(exit == 0, $"second kubectl apply failed ({exit}): {stdout}\n{stderr}");
        Assert.Contains("resourceslice.resource.k8s.io/node-a-gpu configured", stdout, StringComparison.Ordinal);

        (exit, stdout, stderr) = await Kubectl(kubectl, t, "get", "resourceslices", "-o", "json");
        Assert.True(exit == 0, $"kubectl get failed ({exit}): {stderr}");
        var list = JsonNode.Parse(stdout)!;
        var slice = list["items"]!.AsArray().Single()!;
        Assert.Equal(2, slice["spec"]!["pool"]!["generation"]!.GetValue<int>());
        Assert.Equal("550.54.15", slice["spec"]!["devices"]![0]!["attributes"]!["driverVersion"]!["version"]!.GetValue<string>());

        (exit, stdout, stderr) = await Kubectl(kubectl, t, "get", "deviceclass", "gpu.nvidia.com", "-o", "json");
        Assert.True(exit == 0, $"kubectl get deviceclass failed ({exit}): {stderr}");
        Assert.Equal("DeviceClass", JsonNode.Parse(stdout)!["kind"]!.GetValue<string>());
        Assert.True(t.Server.RequestLog.Entries.Any(e => e.Method == "PATCH"), "the second apply must PATCH");
    }

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task Apply_of_an_unknown_field_fails_with_the_server_message(string kubectl)
    {
        if (Missing(kubectl))
        {
            return;
        }

        await using var t = await TestServer.StartAsync("1.34");
        var file = Path.Combine(_dir, "bad.yaml");
        await File.WriteAllTextAsync(file, """
            apiVersion: resource.k8s.io/v1
            kind: ResourceSlice
            metadata:
              name: bad
            spec:
              driver: gpu.nvidia.com
              nodeName: node-a
              pool: {name: node-a, generation: 1, resourceSliceCount: 1}
              devices:
              - name: gpu-0
                basic:
                  attributes: {}
            """);
        var (exit, stdout, stderr) = await Kubectl(kubectl, t, "apply", "-f", file);
        Assert.NotEqual(0, exit);
        Assert.Contains("spec.devices[0].basic", stdout + stderr, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Kubectls))]
    public async Task Get_nodes_json_lists_created_nodes(string kubectl)
    {
        if (Missing(kubectl))
        {
            return;
        }

        await using var t = await TestServer.StartAsync("1.32");
        await t.CreateAsync("/api/v1/nodes", """{"metadata":{"name":"node-a"}}""");
        var (exit, stdout, stderr) = await Kubectl(kubectl, t, "get", "nodes", "-o", "json");
        Assert.True(exit == 0, $"kubectl get nodes failed ({exit}): {stderr}");
        Assert.Equal("node-a", JsonNode.Parse(stdout)!["items"]![0]!["metadata"]!["name"]!.GetValue<string>());
        (exit, stdout, stderr) = await Kubectl(kubectl, t, "get", "resourceslices");
        Assert.True(exit == 0, $"kubectl get resourceslices failed ({exit}): {stderr}");
    }
}
