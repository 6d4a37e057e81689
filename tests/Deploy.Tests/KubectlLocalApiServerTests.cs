using System.Diagnostics;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>
/// kubectl (the one .ci/run installs under .tools) against the real <c>securedra local-apiserver</c> process: explain,
/// apply twice, server-side dry run and get's server-side columns behave as against a real API server.
/// </summary>
public sealed class KubectlLocalApiServerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("securedra-kubectl-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Manifests(string version) => $$"""
        apiVersion: resource.k8s.io/{{version}}
        kind: DeviceClass
        metadata:
          name: gpu.nvidia.com
        spec:
          selectors:
          - cel: {expression: "device.driver == 'gpu.nvidia.com'"}
        ---
        apiVersion: resource.k8s.io/{{version}}
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
        apiVersion: v1
        kind: Namespace
        metadata:
          name: tenant-a
        ---
        apiVersion: resource.k8s.io/{{version}}
        kind: ResourceClaim
        metadata:
          name: one-gpu
          namespace: tenant-a
        spec:
          devices:
            requests:
            - name: gpu
              exactly: {deviceClassName: gpu.nvidia.com, allocationMode: ExactCount, count: 1}
            config:
            - requests: [gpu]
              opaque:
                driver: gpu.nvidia.com
                parameters: {apiVersion: resource.securedra.io/v1alpha1, kind: GpuConfig}
        ---
        apiVersion: resource.k8s.io/{{version}}
        kind: ResourceClaimTemplate
        metadata:
          name: one-gpu
          namespace: tenant-a
        spec:
          spec:
            devices:
              requests:
              - name: gpu
                exactly: {deviceClassName: gpu.nvidia.com, allocationMode: ExactCount, count: 1}
        """;

    private (int Exit, string Out, string Err) Kubectl(LocalApiServerProcess server, params string[] args)
    {
        var start = new ProcessStartInfo(RepoPaths.Kubectl) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--server", server.Server, "--cache-dir", Path.Combine(_dir, "cache"), "--request-timeout", "20s" }.Concat(args))
        {
            start.ArgumentList.Add(a);
        }

        // No kubeconfig of the developer's may add credentials or a namespace.
        start.Environment["KUBECONFIG"] = Path.Combine(_dir, "no-kubeconfig");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl {string.Join(' ', args)} did not finish");
        }

        process.WaitForExit();
        return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    private string Ok(LocalApiServerProcess server, params string[] args)
    {
        var (exit, stdout, stderr) = Kubectl(server, args);
        Assert.True(exit == 0, $"kubectl {string.Join(' ', args)} exited {exit}:\n{stdout}\n{stderr}\n---- local-apiserver ----\n{server.Output}");
        return stdout;
    }

    private string Write(string name, string text)
    {
        var file = Path.Combine(_dir, name);
        File.WriteAllText(file, text);
        return file;
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string[] Words(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Explain_reads_the_served_schemas_down_to_a_field_and_names_a_missing_one()
    {
        await using var server = await LocalApiServerProcess.StartAsync("1.34");
        var devices = Ok(server, "explain", "resourceclaims.spec.devices");
        Assert.Contains("KIND:       ResourceClaim", devices, StringComparison.Ordinal);
        Assert.Contains("FIELD: devices <Object>", devices, StringComparison.Ordinal);
        Assert.Contains("requests\t<[]Object>", devices, StringComparison.Ordinal);

        var mode = Ok(server, "explain", "resourceclaims.spec.devices.requests.exactly.allocationMode");
        Assert.Contains("ENUM:", mode, StringComparison.Ordinal);
        Assert.Contains("ExactCount", mode, StringComparison.Ordinal);

        var oldShape = Ok(server, "explain", "resourceslices.spec.devices.basic.capacity", "--api-version=resource.k8s.io/v1beta1");
        Assert.Contains("VERSION:    v1beta1", oldShape, StringComparison.Ordinal);
        Assert.Contains("map[string]Object", oldShape, StringComparison.Ordinal);

        var recursive = Ok(server, "explain", "deviceclasses", "--recursive");
        Assert.Contains("expression\t<string>", recursive, StringComparison.Ordinal);

        var (exit, stdout, stderr) = Kubectl(server, "explain", "resourceclaims.spec.devices.nosuch");
        Assert.NotEqual(0, exit);
        Assert.Contains("field \"nosuch\" does not exist", stdout + stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.33", "v1beta2")] // a version kubectl 1.33 has built in: strategic merge from its own types
    [InlineData("1.34", "v1")] // one it does not know: JSON merge patch, decided from the OpenAPI v3 document
    public async Task Reapplying_unchanged_manifests_reports_unchanged_and_changes_no_resource_version(string kubernetes, string version)
    {
        await using var server = await LocalApiServerProcess.StartAsync(kubernetes);
        var file = Write("objects.yaml", Manifests(version));
        var first = Ok(server, "apply", "-f", file);
        Assert.Equal(5, Lines(first).Count(l => l.EndsWith(" created", StringComparison.Ordinal)));
        var versionsBefore = Ok(server, "get", "deviceclasses,resourceslices,namespaces,resourceclaims,resourceclaimtemplates", "-A", "-o", "jsonpath={range .items[*]}{.metadata.name}={.metadata.resourceVersion}/{.metadata.generation} {end}");

        var second = Ok(server, "apply", "-f", file);
        var reported = Lines(second);
        Assert.Equal(5, reported.Length);
        Assert.All(reported, l => Assert.EndsWith(" unchanged", l, StringComparison.Ordinal));
        var versionsAfter = Ok(server, "get", "deviceclasses,resourceslices,namespaces,resourceclaims,resourceclaimtemplates", "-A", "-o", "jsonpath={range .items[*]}{.metadata.name}={.metadata.resourceVersion}/{.metadata.generation} {end}");
        Assert.Equal(versionsBefore, versionsAfter);

        // A real change is "configured" and bumps generation; the next re-apply is "unchanged" again.
        File.WriteAllText(file, Manifests(version).Replace("generation: 1,", "generation: 2,", StringComparison.Ordinal));
        Assert.Contains("resourceslice.resource.k8s.io/node-a-gpu configured", Ok(server, "apply", "-f", file), StringComparison.Ordinal);
        Assert.Equal("2", Ok(server, "get", "resourceslice", "node-a-gpu", "-o", "jsonpath={.metadata.generation}"));
        Assert.Contains("resourceslice.resource.k8s.io/node-a-gpu unchanged", Ok(server, "apply", "-f", file), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_claim_relying_on_server_defaults_is_configured_by_kubectl_but_the_server_write_is_a_no_op()
    {
        // kubectl compares the atomic request list with the stored one, which carries the defaulted allocationMode
        // and count, so it sends a patch and says "configured", as it does against a real API server. The patch
        // changes nothing, so the server keeps resourceVersion and generation.
        await using var server = await LocalApiServerProcess.StartAsync("1.34");
        var file = Write("claim.yaml", """
            apiVersion: resource.k8s.io/v1
            kind: ResourceClaim
            metadata: {name: defaults, namespace: default}
            spec:
              devices:
                requests:
                - name: gpu
                  exactly: {deviceClassName: gpu.nvidia.com}
            """);
        Ok(server, "apply", "-f", file);
        var before = Ok(server, "get", "resourceclaim", "defaults", "-o", "jsonpath={.metadata.resourceVersion}/{.metadata.generation}");
        Assert.Contains("configured", Ok(server, "apply", "-f", file), StringComparison.Ordinal);
        Assert.Equal(before, Ok(server, "get", "resourceclaim", "defaults", "-o", "jsonpath={.metadata.resourceVersion}/{.metadata.generation}"));
    }

    [Fact]
    public async Task Server_dry_run_refuses_an_existing_create_and_stores_nothing()
    {
        await using var server = await LocalApiServerProcess.StartAsync("1.34");
        var file = Write("objects.yaml", Manifests("v1"));

        // Nothing exists yet: the cluster-scoped objects would be created; the namespaced ones are refused because
        // their namespace is itself only dry-run created (the real server's namespace lifecycle check says the same).
        var (_, dryCreate, dryErrors) = Kubectl(server, "create", "-f", file, "--dry-run=server");
        Assert.Contains("deviceclass.resource.k8s.io/gpu.nvidia.com created (server dry run)", dryCreate, StringComparison.Ordinal);
        Assert.Contains("namespace/tenant-a created (server dry run)", dryCreate, StringComparison.Ordinal);
        Assert.Contains("namespaces \"tenant-a\" not found", dryErrors, StringComparison.Ordinal);
        var (missing, _, notFound) = Kubectl(server, "get", "deviceclass", "gpu.nvidia.com");
        Assert.NotEqual(0, missing);
        Assert.Contains("NotFound", notFound, StringComparison.Ordinal);

        Ok(server, "apply", "-f", file);
        var (exit, stdout, stderr) = Kubectl(server, "create", "-f", file, "--dry-run=server");
        Assert.NotEqual(0, exit);
        Assert.Contains("Error from server (AlreadyExists)", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("created", stdout, StringComparison.Ordinal);

        var rv = Ok(server, "get", "resourceslice", "node-a-gpu", "-o", "jsonpath={.metadata.resourceVersion}");
        File.WriteAllText(file, Manifests("v1").Replace("generation: 1,", "generation: 7,", StringComparison.Ordinal));
        Assert.Contains("resourceslice.resource.k8s.io/node-a-gpu configured (server dry run)", Ok(server, "apply", "-f", file, "--dry-run=server"), StringComparison.Ordinal);
        Assert.Equal(rv, Ok(server, "get", "resourceslice", "node-a-gpu", "-o", "jsonpath={.metadata.resourceVersion}"));
        Assert.Equal("1", Ok(server, "get", "resourceslice", "node-a-gpu", "-o", "jsonpath={.spec.pool.generation}"));

        Assert.Contains("(server dry run)", Ok(server, "delete", "resourceslice", "node-a-gpu", "--dry-run=server"), StringComparison.Ordinal);
        Assert.Equal(rv, Ok(server, "get", "resourceslice", "node-a-gpu", "-o", "jsonpath={.metadata.resourceVersion}"));
    }

    [Fact]
    public async Task Get_prints_the_api_servers_columns()
    {
        await using var server = await LocalApiServerProcess.StartAsync("1.34");
        Ok(server, "apply", "-f", Write("objects.yaml", Manifests("v1")));

        var slices = Lines(Ok(server, "get", "resourceslices"));
        Assert.Equal(["NAME", "NODE", "DRIVER", "POOL", "AGE"], Words(slices[0]));
        Assert.Equal(["node-a-gpu", "node-a", "gpu.nvidia.com", "node-a"], Words(slices[1]).Take(4));

        var claims = Lines(Ok(server, "get", "resourceclaims", "-A"));
        Assert.Equal(["NAMESPACE", "NAME", "STATE", "AGE"], Words(claims[0]));
        Assert.Equal(["tenant-a", "one-gpu", "pending"], Words(claims[1]).Take(3));

        Assert.Equal(["NAME", "AGE"], Words(Lines(Ok(server, "get", "deviceclasses"))[0]));
        Assert.Equal(["NAME", "STATUS", "AGE"], Words(Lines(Ok(server, "get", "namespaces"))[0]));
        // A kind without a printer of its own gets the server's default columns.
        // (From a file: kubectl's typed "create serviceaccount" sends protobuf, which this server does not speak.)
        Ok(server, "create", "-f", Write("sa.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: builder, namespace: tenant-a}\n"));
        var accounts = Lines(Ok(server, "get", "serviceaccounts", "-n", "tenant-a"));
        Assert.Equal(["NAME", "CREATED", "AT"], Words(accounts[0]));
        Assert.Equal("builder", Words(accounts[1])[0]);
    }
}
