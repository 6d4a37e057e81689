namespace SecureDra.UpstreamWire.Tests;

/// <summary>The real <c>securedra kubelet-plugin</c> process on simulated GPUs (the test kit's launcher); killed on dispose.</summary>
internal sealed class PluginProcess : IDisposable
{
    private readonly SecuredraProcess process;

    private PluginProcess(SecuredraProcess process) => this.process = process;

    public string Stderr => process.Output;

    public static PluginProcess Start(string nodeName, string apiServer, string registrarDir, string pluginsDir, string cdiRoot, int gpus) =>
        new(SecuredraProcess.Start("kubelet-plugin",
        [
            "kubelet-plugin", "--node-name", nodeName, "--kubeconfig", apiServer,
            "--kubelet-registrar-directory-path", registrarDir, "--kubelet-plugins-directory-path", pluginsDir, "--cdi-root", cdiRoot,
            "--gpu-backend", "simulated", "--simulated-gpus", gpus.ToString(System.Globalization.CultureInfo.InvariantCulture), "--simulated-memory", "1Mi",
            "--log-format", "json",
        ]));

    /// <summary>Waits until <paramref name="socketPath"/> exists (the plugin binds it once it serves), failing fast if the process dies.</summary>
    public async Task WaitForSocketAsync(string socketPath, CancellationToken ct) =>
        await Poll.UntilAsync(
            () =>
            {
                Assert.False(process.HasExited && !File.Exists(socketPath), $"the plugin exited with {(process.HasExited ? process.ExitCode : 0)} before binding {socketPath}:\n{process.Output}");
                ct.ThrowIfCancellationRequested();
                return File.Exists(socketPath);
            },
            $"the plugin binds {socketPath}",
            TimeSpan.FromSeconds(60),
            () => process.Output);

    public void Dispose() => process.Dispose();
}
