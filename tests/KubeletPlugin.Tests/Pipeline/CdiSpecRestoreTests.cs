using System.Diagnostics;
using System.Text;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.State;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

namespace SecureDra.KubeletPlugin.Tests.Pipeline;

/// <summary>
/// Prepare writes the CDI spec and the Prepared commit at once, so a crash can leave a Prepared claim without its spec.
/// Start-up and the retried Prepare put it back, byte for byte, and never hand out anything else: a spec that was
/// tampered with is rewritten, and a FIFO planted in its place cannot hang the plugin.
/// </summary>
public class CdiSpecRestoreTests
{
    private static async Task<ClaimPrepareResult> PrepareOne(PipelineHarness h, ClaimRef claim) =>
        (await h.Pipeline.PrepareAsync([claim], CancellationToken.None))[claim.Uid];

    private static double Restored(PipelineHarness h, string outcome) =>
        h.Metrics.Counter("securedra_cdi_spec_restored_total", "", "outcome").Value(outcome);

    // The file name as CdiSpecWriter builds it, without the harness's current provider (a restart disposes it).
    private static string SpecPath(PipelineHarness h, int claim) => Path.Combine(h.CdiRoot, $"k8s.{TestClaims.Driver}-claim_{TestClaims.Uid(claim)}.json");

    private static async Task<(ClaimPrepareResult Answer, byte[] Spec)> PreparedAsync(PipelineHarness h, int claim, string device)
    {
        h.Api.PutClaim(TestClaims.Allocated(claim, device));
        var answer = await PrepareOne(h, TestClaims.Ref(claim));
        Assert.Null(answer.Error);
        return (answer, await File.ReadAllBytesAsync(SpecPath(h, claim)));
    }

    [Fact]
    public async Task A_Prepared_claim_whose_spec_never_reached_the_disk_gets_it_back_at_start_up_byte_for_byte()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        var (answer, spec) = await PreparedAsync(h, 1, "gpu-2");

        // The disk a crash between the two overlapped writes leaves: Prepared durable, no spec.
        await h.RestartAsync(whileStopped: () => File.Delete(SpecPath(h, 1)));

        Assert.Equal(spec, await File.ReadAllBytesAsync(SpecPath(h, 1)));
        Assert.Equal(1, Restored(h, "missing"));
        var again = await PrepareOne(h, TestClaims.Ref(1));
        Assert.Equal(answer.Devices.Select(d => d.CdiDeviceIds[0]), again.Devices.Select(d => d.CdiDeviceIds[0]));
        Assert.Equal(DeviceAssignment.Prepared, h.Inventory.Get("gpu-2")!.Assignment);
    }

    [Fact]
    public async Task A_spec_that_was_tampered_with_is_rewritten_at_start_up()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        var (_, spec) = await PreparedAsync(h, 1, "gpu-0");
        // An attacker with a foothold in the CDI root hands the claim's containers a second GPU.
        var tampered = Encoding.UTF8.GetString(spec).Replace("\"/dev/nvidia0\"", "\"/dev/nvidia0\"},{\"path\":\"/dev/nvidia1\"", StringComparison.Ordinal);
        Assert.NotEqual(Encoding.UTF8.GetString(spec), tampered);

        await h.RestartAsync(whileStopped: () => File.WriteAllText(SpecPath(h, 1), tampered));

        Assert.Equal(spec, await File.ReadAllBytesAsync(SpecPath(h, 1)));
        Assert.Equal(1, Restored(h, "differed"));
    }

    [Fact]
    public async Task A_spec_with_bytes_appended_is_rewritten_at_start_up()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        var (_, spec) = await PreparedAsync(h, 1, "gpu-0");

        await h.RestartAsync(whileStopped: () => File.WriteAllBytes(SpecPath(h, 1), [.. spec, (byte)' ']));

        Assert.Equal(spec, await File.ReadAllBytesAsync(SpecPath(h, 1)));
        Assert.Equal(1, Restored(h, "differed"));
    }

    [Fact]
    public async Task An_intact_spec_is_left_alone_at_start_up()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        var (_, spec) = await PreparedAsync(h, 1, "gpu-0");
        var written = File.GetLastWriteTimeUtc(SpecPath(h, 1));

        await h.RestartAsync();

        Assert.Equal(spec, await File.ReadAllBytesAsync(SpecPath(h, 1)));
        Assert.Equal(written, File.GetLastWriteTimeUtc(SpecPath(h, 1)));
        Assert.Equal(0, Restored(h, "missing") + Restored(h, "differed"));
    }

    [Fact]
    public async Task A_fifo_planted_as_the_spec_does_not_hang_start_up_and_is_replaced_by_the_spec()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        var (_, spec) = await PreparedAsync(h, 1, "gpu-0");

        await h.RestartAsync(whileStopped: () =>
        {
            File.Delete(SpecPath(h, 1));
            using var mkfifo = Process.Start("mkfifo", SpecPath(h, 1))!;
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        });

        Assert.Equal(spec, await File.ReadAllBytesAsync(SpecPath(h, 1)));
        Assert.Equal(1, Restored(h, "differed"));
    }

    [Fact]
    public async Task A_spec_that_cannot_be_written_again_at_start_up_is_counted_and_start_up_still_completes()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        await PreparedAsync(h, 1, "gpu-0");

        // The CDI root replaced by a file: nothing can be written there.
        await h.RestartAsync(whileStopped: () =>
        {
            Directory.Delete(h.CdiRoot, recursive: true);
            File.WriteAllText(h.CdiRoot, "not a directory");
        });

        Assert.Equal(1, Restored(h, "failed"));
        Assert.Equal(DeviceAssignment.Prepared, h.Inventory.Get("gpu-0")!.Assignment);
        // Start-up came up, so the claim can still be released (and its device scrubbed).
        var released = (await h.Pipeline.UnprepareAsync([TestClaims.Ref(1)], CancellationToken.None))[TestClaims.Uid(1)];
        Assert.Null(released.Error);
        Assert.Null(h.Journal.Get(TestClaims.Uid(1)));
    }

    [Fact]
    public async Task A_spec_deleted_under_the_running_plugin_is_back_before_the_retried_Prepare_answers()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        var (answer, spec) = await PreparedAsync(h, 1, "gpu-3");
        var writes = h.CheckpointWrites;

        File.Delete(SpecPath(h, 1));
        var again = await PrepareOne(h, TestClaims.Ref(1));

        Assert.Null(again.Error);
        Assert.Equal(answer.Devices.Select(d => d.CdiDeviceIds[0]), again.Devices.Select(d => d.CdiDeviceIds[0]));
        Assert.Equal(spec, await File.ReadAllBytesAsync(SpecPath(h, 1)));
        Assert.Equal(1, Restored(h, "missing"));
        Assert.Equal(writes, h.CheckpointWrites); // the claim's record did not change: no checkpoint write
    }

    [Fact]
    public async Task A_spec_write_that_fails_beside_a_durable_Prepared_commit_leaves_nothing_prepared_on_disk()
    {
        await using var h = PipelineHarness.Create();
        await h.StartAsync();
        h.Api.PutClaim(TestClaims.Allocated(1, "gpu-0"));
        // The spec cannot be written (the CDI root is a file); the checkpoint commit beside it can.
        if (Directory.Exists(h.CdiRoot))
        {
            Directory.Delete(h.CdiRoot, recursive: true);
        }

        await File.WriteAllTextAsync(h.CdiRoot, "not a directory");

        var result = await PrepareOne(h, TestClaims.Ref(1));

        Assert.NotNull(result.Error);
        Assert.Null(h.Journal.Get(TestClaims.Uid(1)));
        var onDisk = await h.Journal.File.ReadAsync(CancellationToken.None);
        Assert.False(onDisk!.Claims.ContainsKey(TestClaims.Uid(1)), "the claim stayed Prepared on disk after its prepare failed");
        Assert.Equal(DeviceAssignment.Free, h.Inventory.Get("gpu-0")!.Assignment);

        File.Delete(h.CdiRoot);
        Assert.Null((await PrepareOne(h, TestClaims.Ref(1))).Error);
        Assert.True(File.Exists(SpecPath(h, 1)));
    }
}
