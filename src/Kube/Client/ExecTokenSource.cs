using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using SecureDra.Kube.Config;

namespace SecureDra.Kube.Client;

/// <summary>
/// Runs a kubeconfig exec credential plugin and caches its token until <c>status.expirationTimestamp</c> (or, without
/// one, until the server answers 401), as client-go does. Every run is bounded: stdin is closed (securedra has no
/// terminal), stdout is read up to a limit, stderr is passed through up to a limit, and the process tree is killed
/// at the deadline.
/// </summary>
public sealed class ExecTokenSource : IRefreshableTokenSource, IDisposable
{
    private readonly ExecCredentialConfig _config;
    private readonly ExecPluginLimits _limits;
    private readonly TimeProvider _time;
    private readonly TextWriter _stderr;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _lock = new();
    private ExecCredential? _cached;

    /// <param name="stderr">Where the plugin's stderr goes (bounded); the process's own stderr by default.</param>
    public ExecTokenSource(ExecCredentialConfig config, ExecPluginLimits? limits = null, TimeProvider? timeProvider = null, TextWriter? stderr = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        _config = config;
        _limits = limits ?? new ExecPluginLimits();
        _time = timeProvider ?? TimeProvider.System;
        _stderr = stderr ?? Console.Error;
    }

    public ExecCredentialConfig Config => _config;

    /// <summary>How many times the plugin has been started; for tests and diagnostics.</summary>
    public int Runs { get; private set; }

    public async ValueTask<string?> GetTokenAsync(CancellationToken cancellationToken)
    {
        if (Fresh() is { } token)
        {
            return token;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Fresh() is { } again)
            {
                return again;
            }

            var credential = await RunAsync(cancellationToken).ConfigureAwait(false);
            lock (_lock)
            {
                _cached = credential;
            }

            return credential.Token;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Invalidate(string rejectedToken)
    {
        lock (_lock)
        {
            if (_cached?.Token == rejectedToken)
            {
                _cached = null;
            }
        }
    }

    private string? Fresh()
    {
        lock (_lock)
        {
            return _cached is { } c && (c.ExpirationTimestamp is not { } expiry || _time.GetUtcNow() < expiry) ? c.Token : null;
        }
    }

    private async Task<ExecCredential> RunAsync(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(_config.Command)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in _config.Args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in _config.Env)
        {
            start.Environment[name] = value;
        }

        start.Environment["KUBERNETES_EXEC_INFO"] = ExecInfo();
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new ExecCredentialException($"{_config.Where}.command {_config.Command} did not start");
        }
        catch (Win32Exception ex)
        {
            var hint = string.IsNullOrWhiteSpace(_config.InstallHint) ? "" : " (" + _config.InstallHint.ReplaceLineEndings(" ").Trim() + ")";
            throw new ExecCredentialException($"{_config.Where}.command {_config.Command} could not be started: {ex.Message}{hint}", ex);
        }

        Runs++;
        using (process)
        {
            using var deadline = new CancellationTokenSource(_limits.Timeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            try
            {
                process.StandardInput.Close();
                var stdout = ReadAsync(process.StandardOutput.BaseStream, _limits.MaxStdoutBytes, failOverLimit: true, linked.Token);
                var stderr = ReadAsync(process.StandardError.BaseStream, _limits.MaxStderrBytes, failOverLimit: false, linked.Token);
                // stdout first: a plugin that floods it fails at the limit instead of at the deadline.
                var (output, _) = await stdout.ConfigureAwait(false);
                var (errors, dropped) = await stderr.ConfigureAwait(false);
                await process.WaitForExitAsync(linked.Token).ConfigureAwait(false);
                PassThrough(errors, dropped);
                if (process.ExitCode != 0)
                {
                    throw new ExecCredentialException($"{_config.Where}.command {_config.Command} exited with code {process.ExitCode}");
                }

                try
                {
                    return ExecCredentialParser.Parse(output, _config.ApiVersion);
                }
                catch (ExecCredentialException ex)
                {
                    throw new ExecCredentialException($"{_config.Where}.command {_config.Command}: {ex.Message}", ex);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && deadline.IsCancellationRequested)
            {
                Kill(process);
                throw new ExecCredentialException($"{_config.Where}.command {_config.Command} did not finish within {_limits.Timeout.TotalSeconds:0.###} s and was killed");
            }
            catch (ExecCredentialException)
            {
                Kill(process);
                throw;
            }
            catch (OperationCanceledException)
            {
                Kill(process);
                throw;
            }
        }
    }

    private async Task<(byte[] Bytes, long Dropped)> ReadAsync(Stream stream, int limit, bool failOverLimit, CancellationToken cancellationToken)
    {
        using var kept = new MemoryStream();
        var buffer = new byte[16 * 1024];
        long dropped = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            var room = (int)Math.Min(read, limit - kept.Length);
            if (room < read && failOverLimit)
            {
                throw new ExecCredentialException($"{_config.Where}.command {_config.Command} wrote more than {limit} bytes on stdout");
            }

            kept.Write(buffer, 0, room);
            dropped += read - room;
        }

        return (kept.ToArray(), dropped);
    }

    private void PassThrough(byte[] errors, long dropped)
    {
        if (errors.Length == 0)
        {
            return;
        }

        _stderr.Write(Encoding.UTF8.GetString(errors));
        if (dropped > 0)
        {
            _stderr.WriteLine();
            _stderr.WriteLine($"[securedra: {dropped} more bytes of the exec plugin's stderr dropped]");
        }

        _stderr.Flush();
    }

    /// <summary>KUBERNETES_EXEC_INFO as client-go sets it: never interactive (no terminal), the cluster only when provideClusterInfo is set.</summary>
    private string ExecInfo()
    {
        var spec = new JsonObject { ["interactive"] = false };
        if (_config.ClusterInfo is { } cluster)
        {
            spec["cluster"] = cluster.DeepClone();
        }

        return new JsonObject { ["apiVersion"] = _config.ApiVersion, ["kind"] = "ExecCredential", ["spec"] = spec }.ToJsonString();
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            // Already exited.
        }
    }

    public void Dispose() => _gate.Dispose();
}
