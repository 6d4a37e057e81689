using System.Diagnostics;
using System.Text;

namespace SecureDra.Cli.Tests;

/// <summary>
/// <c>securedra demo --mode mig</c> as a real process: two tenants on two static instances of one simulated GPU; the
/// release of A's claim runs the per-instance scrub (a real <c>securedra scrub-worker</c> child). Checked from the
/// narration and, independently, from the simulated GPU memory the demo leaves in its work dir.
/// </summary>
public sealed class MigDemoCommandTests : IDisposable
{
    private const long Memory = 16L << 20;
    private readonly string _work = Directory.CreateTempSubdirectory("securedra-mig-demo-test-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Mig_demo_scrubs_only_the_released_instance_and_the_neighbour_s_bytes_survive()
    {
        var (code, stdout, stderr) = await DemoCommandTests.RunAsync("demo", "--mode", "mig", "--simulated-memory", "16Mi", "--work-dir", _work);

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.False(CliProcess.HasStackTrace(stdout + stderr), stdout + stderr);

        // Published as NVIDIA's static MIG devices, prepared with the instance's capability nodes.
        Assert.Matches(@"gpu-0-mig-3g40gb-9-0\s+mig\s+3g\.40gb\s+MIG-", stdout);
        Assert.Matches(@"gpu-0-mig-3g40gb-9-4\s+mig\s+3g\.40gb\s+MIG-", stdout);
        Assert.Matches(@"tenant-a/\S+ on gpu-0-mig-3g40gb-9-0: device nodes /dev/nvidia0, /dev/nvidia-caps/nvidia-cap12, /dev/nvidia-caps/nvidia-cap13", stdout);
        Assert.Matches(@"tenant-b/\S+ on gpu-0-mig-3g40gb-9-4: device nodes /dev/nvidia0, /dev/nvidia-caps/nvidia-cap21, /dev/nvidia-caps/nvidia-cap22", stdout);

        // The verdicts: A's canary there, then gone with every byte of A's slices zero; B's canary and hash unchanged.
        Assert.Contains("read back 5/5", stdout, StringComparison.Ordinal);
        Assert.Matches(@"scrub: Scrubbed MIG instance ""MIG-[-0-9a-f]+"" \(GPU instance \d+ of ""gpu-0"", slices ""\{0,4\}""\) for ""?release""?: 8388608 of 8388608 bytes zeroed and verified", stdout);
        Assert.Contains("tenant A's canary copies left in its instance: 0; non-zero bytes in slices 0-3: 0", stdout, StringComparison.Ordinal);
        Assert.Contains("tenant B's instance, still in use: canary 5/5 intact", stdout, StringComparison.Ordinal);
        Assert.Contains("unchanged", stdout, StringComparison.Ordinal);
        Assert.Contains("gpu-0-mig-3g40gb-9-0 is verified clean and offered again", stdout, StringComparison.Ordinal);

        // Independently of the narration: the memory the demo leaves behind.
        var vram = await File.ReadAllBytesAsync(Path.Combine(_work, "plugins", "gpu.nvidia.com", "simulated-vram", "gpu-0.vram"));
        Assert.Equal(Memory, vram.LongLength);
        var half = (int)(Memory / 2);
        Assert.True(vram.AsSpan(0, half).IndexOfAnyExcept((byte)0) < 0, "tenant A's slices 0-3 hold non-zero bytes after the scrub");
        Assert.Equal(5, Count(vram.AsSpan(half), Encoding.ASCII.GetBytes("TENANT-B-SECRET: embeddings cache")));
        Assert.Equal(0, Count(vram, Encoding.ASCII.GetBytes("TENANT-A-SECRET")));
    }

    private static int Count(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle)
    {
        var count = 0;
        for (var i = haystack.IndexOf(needle); i >= 0; i = haystack.IndexOf(needle))
        {
            count++;
            haystack = haystack[(i + needle.Length)..];
        }

        return count;
    }

    [Fact]
    public async Task Mig_demo_refuses_a_gpu_count_it_would_ignore()
    {
        var (code, _, stderr) = await DemoCommandTests.RunAsync("demo", "--mode", "mig", "--simulated-gpus", "3", "--work-dir", _work);

        Assert.Equal(2, code);
        Assert.Equal("securedra demo: --simulated-gpus: --mode mig runs one GPU in MIG mode; leave the flag out", stderr.Trim());
    }

    [Fact]
    public async Task Mig_demo_verbose_prints_each_tenant_s_cdi_spec()
    {
        var (code, stdout, stderr) = await DemoCommandTests.RunAsync("demo", "--mode", "mig", "--simulated-memory", "1Mi", "--work-dir", _work, "--verbose");

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(stdout, "\"containerEdits\"").Count);
    }

    [Fact]
    public async Task Mig_demo_keep_running_serves_the_slices_until_a_signal_then_removes_its_sockets()
    {
        var start = SecuredraProcess.StartInfo(["demo", "--mode", "mig", "--keep-running", "--simulated-memory", "1Mi", "--work-dir", _work]);

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            var seen = new StringBuilder();
            while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
            {
                seen.AppendLine(line);
                if (line.Contains("Press Ctrl+C to stop.", StringComparison.Ordinal))
                {
                    break;
                }
            }

            Assert.Contains("kubectl --server http://127.0.0.1:", seen.ToString(), StringComparison.Ordinal);
            Assert.NotEmpty(Directory.EnumerateFiles(_work, "*.sock", SearchOption.AllDirectories));
            using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(deadline.Token);
            }

            await process.StandardOutput.ReadToEndAsync(deadline.Token);
            await process.WaitForExitAsync(deadline.Token);

            Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await stderr}");
            Assert.Empty(Directory.EnumerateFiles(_work, "*.sock", SearchOption.AllDirectories));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
