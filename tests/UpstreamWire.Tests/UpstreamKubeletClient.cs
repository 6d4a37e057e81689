using System.Diagnostics;
using System.Text.Json.Nodes;

namespace SecureDra.UpstreamWire.Tests;

/// <summary>
/// Runs <c>js/kubelet-client.mjs</c>: a kubelet-side client generated at run time from the upstream .proto files
/// with @grpc/grpc-js. Missing node or npm packages fail the test with the fix, never skip it.
/// </summary>
internal static class UpstreamKubeletClient
{
    private const string InstallHint = "run .ci/run (its install_node_tools function installs node's @grpc/grpc-js and @grpc/proto-loader under .tools/; CI does this)";

    public static async Task<JsonObject> RunAsync(string registrationSocket, IEnumerable<(string Namespace, string Name, string Uid)> claims, string workDir, CancellationToken ct)
    {
        foreach (var package in new[] { "@grpc/grpc-js", "@grpc/proto-loader" })
        {
            var manifest = Path.Combine(RepoPaths.ToolsDir, "node_modules", package, "package.json");
            Assert.True(File.Exists(manifest), $"npm package {package} is missing ({manifest}): {InstallHint}");
        }

        var request = new JsonObject
        {
            ["registrationSocket"] = registrationSocket,
            ["timeoutMs"] = 5000,
            ["claims"] = new JsonArray([.. claims.Select(c => (JsonNode)new JsonObject { ["namespace"] = c.Namespace, ["name"] = c.Name, ["uid"] = c.Uid })]),
        };
        var requestFile = Path.Combine(workDir, "request.json");
        await File.WriteAllTextAsync(requestFile, request.ToJsonString(), ct);

        var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(RepoPaths.KubeletClientScript);
        info.ArgumentList.Add(requestFile);
        info.Environment["SECUREDRA_TOOLS_DIR"] = RepoPaths.ToolsDir;
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"node is not on PATH ({e.Message}): install nodejs, then {InstallHint}");
            throw;
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            try
            {
                await process.WaitForExitAsync(ct);
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }
            }

            var output = await stdout;
            Assert.True(process.ExitCode == 0, $"node client exited {process.ExitCode}: {await stderr}{output}");
            var result = JsonNode.Parse(output)!.AsObject();
            Assert.True(result["clientError"] is null, $"node client failed: {result["clientError"]}");
            return result;
        }
    }
}
