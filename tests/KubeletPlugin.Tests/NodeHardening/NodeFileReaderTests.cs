using SecureDra.KubeletPlugin.NodeHardening;

namespace SecureDra.KubeletPlugin.Tests.NodeHardening;

/// <summary>
/// The bounded node-file read: never more than the limit + 1 bytes taken, and memory that follows the file's size,
/// not the limit (the toolkit version file is read with a 16 MiB limit at every check).
/// </summary>
public sealed class NodeFileReaderTests : IDisposable
{
    private readonly NodeFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void A_small_file_under_a_16_MiB_limit_allocates_about_its_size_not_the_limit()
    {
        var path = _files.Write(Path.Combine(_files.Root, "version"), "Package: nvidia-container-toolkit\nVersion: 1.17.8-1\n");
        _ = NodeFileReader.Read(path, 16L * 1024 * 1024); // first call pays for one-time type setup

        var before = GC.GetAllocatedBytesForCurrentThread();
        var content = NodeFileReader.Read(path, 16L * 1024 * 1024);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal("Package: nvidia-container-toolkit\nVersion: 1.17.8-1\n"u8.ToArray(), content.Bytes);
        Assert.True(allocated < 4 * NodeFileReader.InitialBufferBytes, $"reading a 52-byte file allocated {allocated} bytes");
    }

    [Fact]
    public void A_file_larger_than_the_first_buffer_is_read_whole()
    {
        var bytes = new byte[(7 * NodeFileReader.InitialBufferBytes) + 3];
        new Random(15).NextBytes(bytes);
        var path = Path.Combine(_files.Root, "big");
        File.WriteAllBytes(path, bytes);

        var content = NodeFileReader.Read(path, 256 * 1024);

        Assert.Null(content.Error);
        Assert.Equal(bytes, content.Bytes);
    }

    [Theory]
    [InlineData(40_000, true)] // a limit that no doubling of the first buffer hits exactly
    [InlineData(40_001, false)]
    [InlineData(NodeFileReader.InitialBufferBytes, true)]
    [InlineData(NodeFileReader.InitialBufferBytes + 1, false)]
    public void A_file_at_the_limit_is_read_and_one_byte_over_is_refused_naming_the_limit(int fileBytes, bool accepted)
    {
        var limit = fileBytes == 40_000 || fileBytes == 40_001 ? 40_000 : NodeFileReader.InitialBufferBytes;
        var path = Path.Combine(_files.Root, "edge");
        File.WriteAllBytes(path, new byte[fileBytes]);

        var content = NodeFileReader.Read(path, limit);

        if (accepted)
        {
            Assert.Equal(fileBytes, content.Bytes!.Length);
        }
        else
        {
            Assert.Null(content.Bytes);
            Assert.Equal($"is larger than the limit of {limit} bytes", content.Error);
        }
    }

    [Fact]
    public void An_endless_file_stops_at_the_limit_and_allocates_a_bounded_amount()
    {
        var path = Path.Combine(_files.Root, "endless");
        File.CreateSymbolicLink(path, "/dev/zero");
        const int Limit = 1024 * 1024;

        var before = GC.GetAllocatedBytesForCurrentThread();
        var content = NodeFileReader.Read(path, Limit);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal($"is larger than the limit of {Limit} bytes", content.Error);
        // Doubling from 16 KiB to limit + 1: under 3 × the limit in all, whatever the device hands out.
        Assert.InRange(allocated, Limit, 3L * Limit);
    }
}
