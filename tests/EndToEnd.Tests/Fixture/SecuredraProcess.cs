using System.Diagnostics;
using System.Text;

namespace SecureDra.EndToEnd.Tests.Fixture;

/// <summary>One real <c>securedra</c> process (run with <c>dotnet securedra.dll</c>), its stdout and stderr kept for failure messages.</summary>
internal sealed class SecuredraProcess : IAsyncDisposable
{
    /// <summary>Variables the CLI reads; cleared so the test runner's environment never leaks into a process.</summary>
    private static readonly string[] CliEnvironment =
    [
        "NODE_NAME", "DRIVER_NAME", "POD_UID", "HTTP_ENDPOINT", "LOG_FORMAT", "KUBECONFIG", "KUBELET_REGISTRAR_DIRECTORY_PATH",
        "KUBELET_PLUGINS_DIRECTORY_PATH", "CDI_ROOT", "GPU_BACKEND", "SIMULATED_GPUS", "SIMULATED_MEMORY", "SIMULATED_RESERVED_MEMORY", "SIMULATED_VRAM_DIR",
        "SCRUB_MIN_COVERAGE", "WITHDRAWAL_MODE", "FATAL_XIDS", "MAX_CONFIG_BYTES",
        "SCRUB_RETRY_INITIAL", "UNPREPARE_BUDGET", "SECUREDRA_CRASH_AT", "LOCAL_APISERVER_LISTEN", "KUBERNETES_VERSION",
        "HTTP_MAX_CONNECTIONS", "HTTP_IDLE_TIMEOUT", "WEBHOOK_MAX_CONNECTIONS", "WEBHOOK_IDLE_TIMEOUT", "CLIENT_CA_FILE", "WEBHOOK_LISTEN",
        "TLS_CERT_FILE", "TLS_PRIVATE_KEY_FILE", "AUDIT_INTERVAL", "LEADER_ELECTION",
        "NVIDIA_VISIBLE_DEVICES", "CANARY_DEVICE", "CANARY_TIMEOUT", "CANARY_MAX_BYTES", "POD_NAME", "POD_NAMESPACE",
    ];

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _outputLock = new();
    private bool _disposed;
    private readonly TaskCompletionSource<string> _firstStdoutLine = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SecuredraProcess(string label, Process process)
    {
        Label = label;
        _process = process;
    }

    public string Label { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public Task<string> FirstStdoutLine => _firstStdoutLine.Task;

    public string Output
    {
        get
        {
            lock (_outputLock)
            {
                return _output.ToString();
            }
        }
    }

    public static string CliDll
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SecureDra.sln")))
            {
                dir = dir.Parent;
            }

            Assert.NotNull(dir);
            var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
            // The test build: the same sources with failure injection compiled in (crash points, fault endpoint, fault files).
            var dll = Path.Combine(dir.FullName, "tests", "TestBuild", "bin", configuration, "net10.0", "securedra.dll");
            Assert.True(File.Exists(dll), $"build tests/TestBuild first: {dll} is missing");
            return dll;
        }
    }

    /// <param name="noFileLimit">Run under <c>prlimit --nofile=N:N</c> (soft and hard), which execs the CLI in the same process.</param>
    public static SecuredraProcess Start(string label, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, int? noFileLimit = null)
    {
        var info = new ProcessStartInfo(noFileLimit is null ? "dotnet" : "prlimit") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (noFileLimit is { } limit)
        {
            info.ArgumentList.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"--nofile={limit}:{limit}"));
            info.ArgumentList.Add("dotnet");
        }

        info.ArgumentList.Add(CliDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in CliEnvironment)
        {
            info.Environment.Remove(name);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var wrapper = new SecuredraProcess(label, process);
        process.OutputDataReceived += (_, e) => wrapper.Append("out", e.Data);
        process.ErrorDataReceived += (_, e) => wrapper.Append("err", e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    /// <summary>SIGKILL, as a node's OOM killer or a crash would; waits until it is gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _process.WaitForExitAsync(timeout.Token);
    }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
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
        finally
        {
            _process.Dispose();
        }
    }

    private void Append(string stream, string? line)
    {
        if (line is null)
        {
            return;
        }

        if (stream == "out")
        {
            _firstStdoutLine.TrySetResult(line);
        }

        lock (_outputLock)
        {
            // Bounded: a failure message needs the tail, not megabytes.
            if (_output.Length > 400_000)
            {
                _output.Remove(0, 200_000);
            }

            _output.Append(stream).Append("| ").AppendLine(line);
        }
    }
}
