using System.Diagnostics;
using System.Text;
using Kit = SecureDra.TestKit;

namespace SecureDra.Deploy.Tests.Infrastructure;

/// <summary>
/// The real <c>securedra local-apiserver</c> process on 127.0.0.1 port 0; the address is read back from its first
/// output line (no free-port race). Killed (whole tree) on dispose.
/// </summary>
public sealed class LocalApiServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _address = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LocalApiServerProcess(string kubernetesVersion)
    {
        _process = Process.Start(Kit.SecuredraProcess.StartInfo(["local-apiserver", "--listen", "127.0.0.1:0", "--kubernetes-version", kubernetesVersion]))!;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Exited += (_, _) => _address.TrySetException(new InvalidOperationException($"local-apiserver exited before printing its address:\n{Output}"));
        _process.EnableRaisingEvents = true;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>http://127.0.0.1:PORT, as kubectl's --server wants it.</summary>
    public string Server { get; private set; } = string.Empty;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<LocalApiServerProcess> StartAsync(string kubernetesVersion)
    {
        var server = new LocalApiServerProcess(kubernetesVersion);
        try
        {
            server.Server = await server._address.Task.WaitAsync(TimeSpan.FromSeconds(60));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Append(line).Append('\n');
        }

        var at = line.IndexOf("http://", StringComparison.Ordinal);
        if (at >= 0)
        {
            _address.TrySetResult(line[at..].Split(' ', 2)[0].TrimEnd('/'));
        }
    }
}
