using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SecureDra.TestKit;

/// <summary>
/// One real <c>securedra</c> process (<c>dotnet securedra.dll …</c>): the variables the CLI reads are cleared so the
/// runner's environment cannot change a verdict, stdout and stderr are kept (bounded) for assertions and failure
/// messages, and dispose kills the whole tree. Listening ports are read back from the child, never guessed.
/// </summary>
public sealed class SecuredraProcess : IAsyncDisposable, IDisposable
{
    /// <summary>Every variable a securedra subcommand reads as a flag default (see src/Cli/Hosting/EnvOption.cs).</summary>
    public static readonly IReadOnlyList<string> ClearedEnvironment =
    [
        "KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBERNETES_VERSION",
        "NODE_NAME", "DRIVER_NAME", "POD_UID", "POD_NAME", "POD_NAMESPACE", "HTTP_ENDPOINT", "LOG_FORMAT",
        "KUBELET_REGISTRAR_DIRECTORY_PATH", "KUBELET_PLUGINS_DIRECTORY_PATH", "CDI_ROOT",
        "GPU_BACKEND", "SIMULATED_GPUS", "SIMULATED_MEMORY", "SIMULATED_RESERVED_MEMORY", "SIMULATED_VRAM_DIR",
        "SCRUB_MIN_COVERAGE", "SCRUB_RETRY_INITIAL", "UNPREPARE_BUDGET", "WITHDRAWAL_MODE", "FATAL_XIDS", "MAX_CONFIG_BYTES", "CONFIG_ORIGIN",
        "SECUREDRA_CRASH_AT", "SECUREDRA_MANIFESTS", "SECUREDRA_AUDIT_OUTPUT", "LOCAL_APISERVER_LISTEN",
        "HTTP_MAX_CONNECTIONS", "HTTP_IDLE_TIMEOUT", "WEBHOOK_MAX_CONNECTIONS", "WEBHOOK_IDLE_TIMEOUT", "WEBHOOK_LISTEN", "CLIENT_CA_FILE",
        "TLS_CERT_FILE", "TLS_PRIVATE_KEY_FILE", "AUDIT_INTERVAL", "LEADER_ELECTION",
        "PLUGIN_SERVICE_ACCOUNT", "CONTROLLER_SERVICE_ACCOUNT", "RESOURCESLICE_POLICY_NAME", "CLAIM_POLICY_NAMES", "POD_HARDENING_POLICY_NAME",
        "WEBHOOK_CONFIGURATION_NAME", "ALLOWED_ROLES",
        "NVIDIA_VISIBLE_DEVICES", "CANARY_DEVICE", "CANARY_TIMEOUT", "CANARY_MAX_BYTES",
        "ALLOW_EMPTY", "ALLOW_CLASS_RESET_POLICY_OVERRIDE", "CLAIM_DELETE_PROTECTION_POLICY_NAME", "DEMO_LISTEN", "DEMO_WORK_DIR",
        "HEALTH_RECOVERY_INITIAL", "HEALTH_RESEND_INTERVAL", "KUBE_REQUEST_TIMEOUT", "LEADER_ELECTION_ID", "LEADER_ELECTION_NAMESPACE",
        "NODE_CONTAINERD_CONFIG", "NODE_CONTAINERD_DROPIN_DIR", "NODE_CRIO_DROPIN_DIR", "NODE_DEVICE_PLUGIN_SOCKET",
        "NODE_HARDENING_RECHECK_INTERVAL", "NODE_TOOLKIT_CONFIG", "NODE_TOOLKIT_VERSION_FILE", "REQUIRE_NODE_HARDENING",
        "SCRUB_DEVICE", "SCRUB_OUTPUT",
    ];

    // The interleaved copy is for failure messages (the tail is enough); the raw streams are what tests parse.
    private const int MaxKeptChars = 400_000;
    private const int MaxStreamChars = 16_000_000;

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _outputLock = new();
    private readonly TaskCompletionSource<string> _firstStdoutLine = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _openStreams = 2;
    private bool _disposed;

    private SecuredraProcess(string label, Process process)
    {
        Label = label;
        _process = process;
    }

    public string Label { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The first line on stdout (local-apiserver prints its address there).</summary>
    public Task<string> FirstStdoutLine => _firstStdoutLine.Task;

    /// <summary>stdout and stderr interleaved, each line prefixed "out| " or "err| " (the tail, for failure messages).</summary>
    public string Output => Read(_output);

    public string Stdout => Read(_stdout);

    public string Stderr => Read(_stderr);

    /// <summary>stdout and stderr lines as written, without prefixes.</summary>
    public IReadOnlyList<string> Lines =>
        Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Length >= 5 ? l[5..] : l).ToList();

    /// <summary>
    /// The start info for <c>dotnet securedra.dll ARGS</c> (stdout and stderr redirected), with the CLI's variables
    /// cleared and <paramref name="environment"/> set: for a test that drives the streams or signals itself.
    /// </summary>
    /// <param name="noFileLimit">Run under <c>prlimit --nofile=N:N</c>, which execs the CLI in the same process.</param>
    /// <param name="dll">The securedra.dll to run: <see cref="RepoPaths.CliDll"/> (the shipped build) by default,
    /// <see cref="RepoPaths.TestBuildDll"/> for a test that injects failures (crash points, fault files, fault endpoint).</param>
    /// <remarks>
    /// The CLI starts through <c>env --default-signal=INT,QUIT</c> (which execs it in the same process): a test runner
    /// started as a background job of a non-interactive shell (<c>nohup dotnet test … &amp;</c>, some CI agents) ignores
    /// SIGINT and SIGQUIT, every child inherits that, and .NET keeps an inherited ignored signal ignored, so a test that
    /// stops the CLI with SIGINT waited for an exit that never came (the demo --keep-running tests, which pass from a
    /// terminal). The CLI gets the dispositions a user's shell gives it, however the suite was launched.
    /// </remarks>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, int? noFileLimit = null, string? dll = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var info = new ProcessStartInfo("env")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("--default-signal=INT,QUIT");
        if (noFileLimit is { } limit)
        {
            info.ArgumentList.Add("prlimit");
            info.ArgumentList.Add(string.Create(CultureInfo.InvariantCulture, $"--nofile={limit}:{limit}"));
        }

        info.ArgumentList.Add("dotnet");

        info.ArgumentList.Add(dll ?? RepoPaths.CliDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in ClearedEnvironment)
        {
            info.Environment.Remove(name);
        }

        // Every flag's own variable (SECUREDRA_<FLAG>, the one scheme) too; the tools location is not a flag.
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("SECUREDRA_", StringComparison.Ordinal) && k != "SECUREDRA_TOOLS_DIR").ToList())
        {
            info.Environment.Remove(name);
        }

        // The leak check finds every process of this run by this variable, also one a test started without the framework.
        info.Environment[LeakCheck.TestRunMarker.Name] = LeakCheck.TestRunMarker.Value;

        // No diagnostic IPC socket and debugger pipes: the runtime makes three files in TMPDIR per process and removes
        // them only on a clean exit, so every process a test kills (the crash tests, dispose) left them in /tmp (225 per
        // EndToEnd run). Nothing in the suite attaches a debugger, profiler or EventPipe session to the CLI.
        info.Environment["DOTNET_EnableDiagnostics"] = "0";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return info;
    }

    /// <summary>Starts a long-running securedra process; stdin is closed at once.</summary>
    public static SecuredraProcess Start(string label, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, int? noFileLimit = null, string? dll = null)
    {
        var info = StartInfo(args, environment, noFileLimit, dll);
        info.RedirectStandardInput = true;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var wrapper = new SecuredraProcess(label, process);
        process.OutputDataReceived += (_, e) => wrapper.Append("out", e.Data);
        process.ErrorDataReceived += (_, e) => wrapper.Append("err", e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    /// <summary>Runs securedra to the end (killed after <paramref name="timeout"/>, 120 s by default, reported as exit -1).</summary>
    public static async Task<ProcessResult> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null, string? dll = null)
    {
        await using var process = Start("securedra", args, environment, dll: dll);
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        using var cts = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            await process.KillAsync();
            return new ProcessResult(-1, process.Stdout, $"timed out after {limit.TotalSeconds:0} s\n" + process.Stderr);
        }

        return new ProcessResult(process.ExitCode, process.Stdout, process.Stderr);
    }

    public static Task<ProcessResult> RunAsync(params string[] args) => RunAsync((IEnumerable<string>)args);

    /// <summary>
    /// Starts <c>securedra local-apiserver --listen 127.0.0.1:0</c> and reads the address it bound from its first
    /// stdout line: the kernel picks the port, nothing can take it in between.
    /// </summary>
    public static async Task<(SecuredraProcess Process, Uri BaseAddress)> StartLocalApiServerAsync(IEnumerable<string>? extraArgs = null)
    {
        var process = Start("local-apiserver", new[] { "local-apiserver", "--listen", "127.0.0.1:0" }.Concat(extraArgs ?? []));
        try
        {
            var line = await process.FirstStdoutLine.WaitAsync(TimeSpan.FromSeconds(60));
            var at = line.IndexOf("http://", StringComparison.Ordinal);
            Assert.True(at >= 0, $"local-apiserver did not print its address: {line}\n{process.Output}");
            return (process, new Uri(line[at..].Split(' ', 2)[0].TrimEnd('/') + "/"));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits for an output line matching <paramref name="match"/>; fails (with the output) if the process exits first.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, string what, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(match);
        string? found = null;
        await Poll.UntilAsync(
            () =>
            {
                found = Lines.FirstOrDefault(match);
                if (found is null && HasExited && _outputClosed.Task.IsCompleted)
                {
                    found = Lines.FirstOrDefault(match);
                    Assert.True(found is not null, $"{Label} exited with {ExitCode} before {what}\n{Output}");
                }

                return found is not null;
            },
            what,
            timeout ?? TimeSpan.FromSeconds(30),
            () => Output);
        return found!;
    }

    /// <summary>
    /// Waits until this process itself listens on TCP <paramref name="port"/> (read from /proc, so a parallel test's
    /// process on the same port does not count). Throws <see cref="PortTakenException"/> when the process exits because
    /// the port was taken, so the caller can start again on another.
    /// </summary>
    public async Task WaitUntilListeningAsync(int port, TimeSpan? timeout = null)
    {
        await Poll.UntilAsync(
            async () =>
            {
                if (HasExited)
                {
                    await OutputClosedAsync();
                    if (Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
                    {
                        throw new PortTakenException(port, Output);
                    }

                    Assert.Fail($"{Label} exited with {ExitCode} before listening on port {port}\n{Output}");
                }

                return ListeningSockets.PortsOf(Id).Contains(port);
            },
            $"{Label} listens on 127.0.0.1:{port}",
            () => Output,
            timeout ?? TimeSpan.FromSeconds(60));
    }

    /// <summary>The TCP ports this process listens on now.</summary>
    public IReadOnlySet<int> ListeningPorts() => ListeningSockets.PortsOf(Id);

    /// <summary>SIGKILL, as a node's OOM killer or a crash would; waits until it is gone.</summary>
    public async Task KillAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>SIGTERM, as the kubelet's pod shutdown does; returns the exit code.</summary>
    public async Task<int> StopAsync(CancellationToken cancellationToken)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync(cancellationToken);
        }

        return await WaitForExitAsync(cancellationToken);
    }

    /// <summary>Waits for the exit and for the last output line; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        await _outputClosed.Task.WaitAsync(cancellationToken);
        return _process.ExitCode;
    }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await WaitForExitAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            await KillAsync();
        }
        catch (OperationCanceledException)
        {
            // A process that ignores SIGKILL for 20 s is the kernel's problem; do not hide the test's own failure.
        }
        finally
        {
            _process.Dispose();
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task OutputClosedAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _outputClosed.Task.WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // A grandchild holding the pipe open: judge on what arrived.
        }
    }

    private string Read(StringBuilder sink)
    {
        lock (_outputLock)
        {
            return sink.ToString();
        }
    }

    private void Append(string stream, string? line)
    {
        if (line is null)
        {
            if (Interlocked.Decrement(ref _openStreams) == 0)
            {
                _outputClosed.TrySetResult();
            }

            return;
        }

        if (stream == "out")
        {
            _firstStdoutLine.TrySetResult(line);
        }

        lock (_outputLock)
        {
            // Bounded: a failure message needs the tail, not megabytes.
            Keep(_output.Append(stream).Append("| ").Append(line).Append('\n'), MaxKeptChars);
            Keep((stream == "out" ? _stdout : _stderr).Append(line).Append('\n'), MaxStreamChars);
        }
    }

    private static void Keep(StringBuilder sink, int limit)
    {
        if (sink.Length > limit)
        {
            sink.Remove(0, limit / 2);
        }
    }
}
