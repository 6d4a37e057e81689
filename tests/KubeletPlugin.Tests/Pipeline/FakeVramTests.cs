using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

namespace SecureDra.KubeletPlugin.Tests.Pipeline;

/// <summary>
/// The lifecycle models read a GPU's "VRAM" while the product's background scrub retry rewrites it; what they read must be
/// a whole state (a tenant's bytes or zeros), never a file caught half rewritten.
/// </summary>
public class FakeVramTests
{
    [Fact]
    public async Task A_reader_racing_the_scrubber_sees_whole_vram_never_a_torn_or_empty_file()
    {
        using var dir = TempDir.Create();
        var backend = new FakeGpuBackend(Path.Combine(dir.Path, "vram"), 1);
        var scrubber = new FakeScrubber(backend);
        var gpu = backend.Devices[0];
        backend.WriteCanary(gpu.Name);
        const int Rewrites = 300;
        var done = 0;

        // The writer alternates a tenant's canary and a verified scrub, as tenants and the retry loop do; the reader reads
        // as fast as it can until the writer is done (bounded by the writer's count, not by time).
        var writer = Task.Run(async () =>
        {
            try
            {
                for (var i = 0; i < Rewrites; i++)
                {
                    var report = await scrubber.ScrubAsync(gpu, SecureDra.Nvml.Scrubbing.ScrubTrigger.Release, CancellationToken.None);
                    Assert.True(report.Verified, report.FailureReason);
                    backend.WriteCanary(gpu.Name);
                }
            }
            finally
            {
                Volatile.Write(ref done, 1);
            }
        });
        var reads = 0;
        while (Volatile.Read(ref done) == 0)
        {
            var bytes = File.ReadAllBytes(backend.VramPath(gpu.Name)); // threw EndOfStreamException on an in-place rewrite
            Assert.Equal(FakeGpuBackend.VramBytes, bytes.Length);
            Assert.True(bytes.All(b => b == 0) || bytes.All(b => b == 0xCA), "a reader saw VRAM half scrubbed");
            reads++;
        }

        await writer;
        Assert.True(reads > 0);
        Assert.Equal([backend.VramPath(gpu.Name)], Directory.GetFiles(Path.Combine(dir.Path, "vram"))); // no temp file left behind
    }
}
