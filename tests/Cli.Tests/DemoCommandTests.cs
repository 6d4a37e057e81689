using System.Diagnostics;

namespace SecureDra.Cli.Tests;

/// <summary>Runs the README's demo command as a real process: the whole lifecycle, exit code 0, no canary for tenant B.</summary>
public sealed class DemoCommandTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("securedra-demo-test-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Demo_runs_the_lifecycle_and_the_second_tenant_finds_no_canary()
    {
        var (code, stdout, stderr) = await RunAsync("demo", "--simulated-gpus", "3", "--simulated-memory", "8Mi", "--work-dir", _work);

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("the kubelet picked v1.DRAPlugin", stdout, StringComparison.Ordinal);
        Assert.Contains("read back: 5/5 present", stdout, StringComparison.Ordinal);
        Assert.Contains("verified yes", stdout, StringComparison.Ordinal);
        Assert.Contains("canary copies left in gpu-0's memory: 0", stdout, StringComparison.Ordinal);
        Assert.Contains("canary found: 0 of 5; non-zero bytes in all 8 MiB: 0", stdout, StringComparison.Ordinal);
        Assert.Contains("Xid 79: GPU has fallen off the bus", stdout, StringComparison.Ordinal);
        Assert.Contains("slice now offers: gpu-0, gpu-2", stdout, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(_work, "cdi")));

        // Where the plugin's metrics are, and the CDI spec as one summary line rather than a dump.
        Assert.Matches(@"metrics: http://127\.0\.0\.1:[1-9][0-9]*/metrics", stdout);
        Assert.Matches(@"CDI spec k8s\.gpu\.nvidia\.com-claim_[-0-9a-f]+\.json: cdiVersion [0-9.]+, kind k8s\.gpu\.nvidia\.com/claim, 1 device\(s\): .*env NVIDIA_VISIBLE_DEVICES=void; device nodes /dev/nvidia0.*\(--verbose prints it whole\)", stdout);
        Assert.DoesNotContain("\"containerEdits\"", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_verbose_prints_the_whole_cdi_spec()
    {
        var (code, stdout, stderr) = await RunAsync("demo", "--simulated-gpus", "2", "--simulated-memory", "1Mi", "--work-dir", _work, "--verbose");

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("\"containerEdits\"", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("--verbose prints it whole", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--simulated-gpus", "1")]
    [InlineData("--simulated-memory", "lots")]
    [InlineData("--kubernetes-version", "1.30")]
    public async Task Bad_demo_flags_are_one_line_and_exit_two(string flag, string value)
    {
        var (code, _, stderr) = await RunAsync("demo", flag, value, "--work-dir", _work);

        Assert.Equal(2, code);
        Assert.StartsWith($"securedra demo: {flag}:", stderr.Trim(), StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task Keep_running_stops_cleanly_on_a_signal_and_removes_its_sockets_and_temp_dir(string signal)
    {
        var start = SecuredraProcess.StartInfo(["demo", "--keep-running", "--simulated-gpus", "2", "--simulated-memory", "4Mi"]);

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var seen = new System.Text.StringBuilder();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
            {
                seen.AppendLine(line);
                if (line.Contains("Press Ctrl+C to stop.", StringComparison.Ordinal))
                {
                    break;
                }
            }

            var work = System.Text.RegularExpressions.Regex.Match(seen.ToString(), @"work dir (\S+)").Groups[1].Value;
            Assert.True(Directory.Exists(work), seen.ToString());
            Assert.NotEmpty(Directory.EnumerateFiles(work, "*.sock", SearchOption.AllDirectories));

            using (var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(deadline.Token);
            }

            var rest = await process.StandardOutput.ReadToEndAsync(deadline.Token);
            await process.WaitForExitAsync(deadline.Token);

            var output = $"{seen}{rest}\nstderr:\n{await stderr}";
            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{output}");
            Assert.False(Directory.Exists(work), $"{work} is still there\n{output}");
            Assert.False(CliProcess.HasStackTrace(output), output);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Keep_running_with_a_given_work_dir_keeps_the_dir_but_removes_the_sockets()
    {
        var start = SecuredraProcess.StartInfo(["demo", "--keep-running", "--simulated-gpus", "2", "--simulated-memory", "4Mi", "--work-dir", _work]);

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line && !line.Contains("Press Ctrl+C to stop.", StringComparison.Ordinal))
            {
            }

            Assert.NotEmpty(Directory.EnumerateFiles(_work, "*.sock", SearchOption.AllDirectories));
            using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(deadline.Token);
            }

            await process.StandardOutput.ReadToEndAsync(deadline.Token);
            await process.WaitForExitAsync(deadline.Token);

            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await stderr}");
            Assert.Empty(Directory.EnumerateFiles(_work, "*.sock", SearchOption.AllDirectories));
            Assert.True(File.Exists(Path.Combine(_work, "securedra.log")));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    internal static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var result = await SecuredraProcess.RunAsync(args, timeout: TimeSpan.FromSeconds(180));
        return (result.ExitCode, result.Stdout, result.Stderr);
    }
}
