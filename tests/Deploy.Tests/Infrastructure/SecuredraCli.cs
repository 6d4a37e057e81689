using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace SecureDra.Deploy.Tests.Infrastructure;

/// <summary>
/// The real <c>securedra</c> binary, built by the project reference (ReferenceOutputAssembly=false) and run with
/// <c>dotnet</c>. Environment variables the CLI reads are cleared so the developer's shell cannot change a verdict.
/// </summary>
public static partial class SecuredraCli
{
    private static readonly string[] ClearedEnvironment =
    [
        "KUBECONFIG", "POD_NAMESPACE", "POD_NAME", "NODE_NAME", "POD_UID", "DRIVER_NAME", "HTTP_ENDPOINT", "LOG_FORMAT", "GPU_BACKEND",
        "SECUREDRA_MANIFESTS", "SECUREDRA_AUDIT_OUTPUT", "KUBERNETES_SERVICE_HOST", "WEBHOOK_LISTEN", "AUDIT_INTERVAL", "LEADER_ELECTION",
        "PLUGIN_SERVICE_ACCOUNT", "CONTROLLER_SERVICE_ACCOUNT", "RESOURCESLICE_POLICY_NAME", "CLAIM_POLICY_NAMES", "POD_HARDENING_POLICY_NAME",
        "WEBHOOK_CONFIGURATION_NAME", "ALLOWED_ROLES", "SECUREDRA_MODE", "PROXY_HOST_PATHS", "KUBELET_REGISTRY_DIR", "VENDOR", "ALLOW_MPS",
        "ALLOW_VFIO", "ALLOW_COMPUTE_DOMAIN",
    ];

    private static readonly Dictionary<string, Help> HelpCache = new(StringComparer.Ordinal);
    private static readonly Lock HelpLock = new();

    /// <summary>What <c>securedra SUB --help</c> lists: the long flag names and the environment variables named in descriptions.</summary>
    public sealed record Help(string Text, IReadOnlySet<string> Flags, IReadOnlySet<string> EnvironmentVariables);

    public static string Dll
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            var dll = Path.Combine(RepoPaths.Root, "src", "Cli", "bin", configuration, "net10.0", "securedra.dll");
            Assert.True(File.Exists(dll), $"build src/Cli first: {dll} is missing");
            return dll;
        }
    }

    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        info.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var name in ClearedEnvironment)
        {
            info.Environment.Remove(name);
        }

        return info;
    }

    public static Tool.Result Run(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"securedra {string.Join(' ', args)} did not finish");
        }

        process.WaitForExit();
        return new Tool.Result(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    public static Help HelpOf(string subcommand)
    {
        lock (HelpLock)
        {
            if (HelpCache.TryGetValue(subcommand, out var cached))
            {
                return cached;
            }

            var result = Run(subcommand, "--help");
            Assert.True(result.ExitCode == 0, $"securedra {subcommand} --help exited {result.ExitCode}: {result.StdErr}");
            var text = result.StdOut;
            var options = text[(text.IndexOf("Options:", StringComparison.Ordinal) is var i and >= 0 ? i : 0)..];
            // Every long name of an option line, aliases included ("--log-format, --logging-format").
            var flags = OptionLine().Matches(options).SelectMany(m => m.Groups["names"].Value.Split(", "))
                .Where(name => name.StartsWith("--", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
            var env = EnvironmentName().Matches(options).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
            Assert.NotEmpty(flags);
            return HelpCache[subcommand] = new Help(text, flags, env);
        }
    }

    /// <summary>A TCP port that was free a moment ago on 127.0.0.1.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // "  --flag <value>   description", "  -?, -h, --help   description" or "  --name, --alias <value>": the names at the start of an option line.
    [GeneratedRegex(@"^\s{2}(?<names>-[^\s,]+(?:, -[^\s,]+)*)", RegexOptions.Multiline)]
    private static partial Regex OptionLine();

    // "(env NAME; default x)" and "[env NAME]" in descriptions, also when the help wraps between the words.
    [GeneratedRegex(@"\benv\s+(?<name>[A-Z][A-Z0-9_]+)")]
    private static partial Regex EnvironmentName();
}

/// <summary>A long-running <c>securedra</c> process, killed (whole tree) on dispose; its output kept for failure messages.</summary>
public sealed class SecuredraProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public SecuredraProcess(params string[] args)
    {
        _process = Process.Start(SecuredraCli.StartInfo(args))!;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

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

    /// <summary>GETs <paramref name="url"/> until it answers (any status) or the process exits or 30 s pass.</summary>
    public async Task<HttpResponseMessage> WaitForAnswerAsync(HttpClient client, Uri url)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            Assert.False(_process.HasExited, $"securedra exited with {(_process.HasExited ? _process.ExitCode : 0)} before serving {url}:\n{Output}");
            try
            {
                return await client.GetAsync(url);
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
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
    }
}
