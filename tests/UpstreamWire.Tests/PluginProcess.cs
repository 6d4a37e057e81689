using System.Diagnostics;
using System.Text;

namespace SecureDra.UpstreamWire.Tests;

/// <summary>The real <c>securedra kubelet-plugin</c> process on simulated GPUs; killed on dispose.</summary>
internal sealed class PluginProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder stderr = new();

    private PluginProcess(Process process)
    {
        this.process = process;
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
    }

    public string Stderr
    {
        get
        {
            lock (stderr)
            {
                return stderr.ToString();
            }
        }
    }

    public static PluginProcess Start(string nodeName, string apiServer, string registrarDir, string pluginsDir, string cdiRoot, int gpus)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            RepoPaths.CliDll, "kubelet-plugin", "--node-name", nodeName, "--kubeconfig", apiServer,
            "--kubelet-registrar-directory-path", registrarDir, "--kubelet-plugins-directory-path", pluginsDir, "--cdi-root", cdiRoot,
            "--gpu-backend", "simulated", "--simulated-gpus", gpus.ToString(System.Globalization.CultureInfo.InvariantCulture), "--simulated-memory", "1Mi",
            "--log-format", "json",
        })
        {
            info.ArgumentList.Add(arg);
        }

        // Flags only: no env var from the developer's shell may change what runs.
        foreach (var name in new[] { "NODE_NAME", "DRIVER_NAME", "POD_UID", "HTTP_ENDPOINT", "LOG_FORMAT", "KUBECONFIG", "KUBELET_REGISTRAR_DIRECTORY_PATH", "KUBELET_PLUGINS_DIRECTORY_PATH", "CDI_ROOT", "SECUREDRA_CRASH_AT" })
        {
            info.Environment.Remove(name);
        }

        return new PluginProcess(Process.Start(info)!);
    }

    /// <summary>Waits until <paramref name="socketPath"/> exists (the plugin binds it once it serves), failing fast if the process dies.</summary>
    public async Task WaitForSocketAsync(string socketPath, CancellationToken ct)
    {
        using var watcher = new FileSystemWatcher(Path.GetDirectoryName(socketPath)!) { EnableRaisingEvents = true };
        var appeared = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.Created += (_, e) =>
        {
            if (e.FullPath == socketPath)
            {
                appeared.TrySetResult();
            }
        };
        var exited = process.WaitForExitAsync(ct);
        while (!File.Exists(socketPath))
        {
            // The watcher wakes us; the short poll only covers a socket created before the watcher started.
            var woke = await Task.WhenAny(appeared.Task, exited, Task.Delay(TimeSpan.FromMilliseconds(200), ct));
            Assert.False(woke == exited && process.HasExited, $"the plugin exited with {(process.HasExited ? process.ExitCode : 0)} before binding {socketPath}:\n{Stderr}");
            ct.ThrowIfCancellationRequested();
        }
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }

        process.Dispose();
    }
}
