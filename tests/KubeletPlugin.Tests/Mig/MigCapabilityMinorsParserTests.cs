using SecureDra.KubeletPlugin.Devices.Mig;

namespace SecureDra.KubeletPlugin.Tests.Mig;

public class MigCapabilityMinorsParserTests
{
    private const string Sample = "config 1\nmonitor 2\ngpu0/gi1/access 12\ngpu0/gi1/ci0/access 13\ngpu1/gi2/access 30\ngpu1/gi2/ci1/access 32\n";

    [Fact]
    public void Parses_the_drivers_lines_and_names_the_two_access_nodes()
    {
        var minors = MigCapabilityMinorsParser.Parse(Sample);

        Assert.Equal(1, minors.Config);
        Assert.Equal(2, minors.Monitor);
        Assert.Equal(12, minors.GpuInstance(0, 1));
        Assert.Equal(13, minors.ComputeInstance(0, 1, 0));
        Assert.Null(minors.GpuInstance(0, 2));
        Assert.Null(minors.ComputeInstance(1, 2, 0));
        Assert.Equal(6, minors.Count);
        Assert.Equal(["/dev/nvidia-caps/nvidia-cap30", "/dev/nvidia-caps/nvidia-cap32"], minors.AccessNodes(1, 2, 1));
        var missing = Assert.Throws<InvalidOperationException>(() => minors.AccessNodes(0, 1, 5));
        Assert.Contains("gpu0/gi1/ci5/access", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parses_a_full_size_driver_list()
    {
        // What the driver writes: every possible instance of 32 GPUs, ~4,300 lines.
        var lines = new List<string> { "config 1", "monitor 2" };
        var minor = 3;
        for (var g = 0; g < 32; g++)
        {
            for (var gi = 0; gi < 15; gi++)
            {
                lines.Add($"gpu{g}/gi{gi}/access {minor++}");
                for (var ci = 0; ci < 8; ci++)
                {
                    lines.Add($"gpu{g}/gi{gi}/ci{ci}/access {minor++}");
                }
            }
        }

        var minors = MigCapabilityMinorsParser.Parse(string.Join('\n', lines) + "\n");
        Assert.Equal(lines.Count, minors.Count);
        Assert.Equal(minor - 1, minors.ComputeInstance(31, 14, 7));
    }

    [Theory]
    [InlineData("gpu0/gi1/access\n", "line 1: expected '<name> <minor>'")]
    [InlineData("gpu0/gi1/access  12\n", "line 1: expected '<name> <minor>'")]
    [InlineData("gpu0/gi1/access 12 \n", "line 1: expected '<name> <minor>'")]
    [InlineData("config 1\n\n", "line 2: expected '<name> <minor>'")]
    [InlineData("gpu0/gi1/access -1\n", "minor '-1' is not a decimal number")]
    [InlineData("gpu0/gi1/access +1\n", "minor '+1' is not a decimal number")]
    [InlineData("gpu0/gi1/access 012\n", "minor '012' is not a decimal number")]
    [InlineData("gpu0/gi1/access 1x\n", "minor '1x' is not a decimal number")]
    [InlineData("gpu0/gi1/access 99999999999\n", "is not a decimal number")]
    [InlineData("gpu0/gi1/access 1048576\n", "minor 1048576 is above the limit 1048575")]
    [InlineData("gpu256/gi1/access 12\n", "gpu index 256 is above the limit 255")]
    [InlineData("gpu0/gi64/access 12\n", "gi index 64 is above the limit 63")]
    [InlineData("gpu0/gi1/ci64/access 12\n", "ci index 64 is above the limit 63")]
    [InlineData("gpu0/gi1/write 12\n", "line 1: unknown name")]
    [InlineData("gpu0/gi1/ci0/x/access 12\n", "line 1: unknown name")]
    [InlineData("../gi1/access 12\n", "expected gpu<n>")]
    [InlineData("gpu0/ci1/access 12\n", "expected gi<n>")]
    [InlineData("gpu/gi1/access 12\n", "gpu index '' is not a decimal number")]
    [InlineData("fabric 3\n", "line 1: unknown name")]
    [InlineData("config 1\nconfig 2\n", "line 2: config is listed twice")]
    [InlineData("gpu0/gi1/access 12\ngpu0/gi1/access 14\n", "line 2: gpu0/gi1/access is listed twice")]
    [InlineData("gpu0/gi1/access 12\ngpu0/gi2/access 12\n", "line 2: minor 12 is listed twice")]
    [InlineData("gpu0/gi1/access 12\r\n", "minor '12\r' is not a decimal number")]
    public void Refuses_anything_the_driver_does_not_write_naming_the_line_and_the_limit(string text, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => MigCapabilityMinorsParser.Parse(text, "mig-minors"));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("mig-minors", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_more_lines_than_the_bound()
    {
        var text = string.Concat(Enumerable.Range(0, MigCapabilityMinorsParser.MaxLines + 1).Select(i => $"gpu{i % 200}/gi{i / 200 % 60}/ci{i / 12000}/access {i}\n"));
        var ex = Assert.Throws<FormatException>(() => MigCapabilityMinorsParser.Parse(text));
        Assert.Contains($"more than {MigCapabilityMinorsParser.MaxLines} lines", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reads_a_real_file_and_refuses_one_past_the_byte_bound_without_reading_it_all()
    {
        var dir = Directory.CreateTempSubdirectory("migminors-");
        try
        {
            var good = Path.Combine(dir.FullName, "mig-minors");
            await File.WriteAllTextAsync(good, Sample);
            Assert.Equal(13, (await MigCapabilityMinorsParser.ReadAsync(good, CancellationToken.None)).ComputeInstance(0, 1, 0));

            var big = Path.Combine(dir.FullName, "big");
            await File.WriteAllBytesAsync(big, new byte[MigCapabilityMinorsParser.MaxBytes * 3]);
            var ex = await Assert.ThrowsAsync<FormatException>(() => MigCapabilityMinorsParser.ReadAsync(big, CancellationToken.None));
            Assert.Contains($"longer than {MigCapabilityMinorsParser.MaxBytes} bytes", ex.Message, StringComparison.Ordinal);

            // A full-size driver list (~60 KiB) is longer than the first read buffer: read whole through the growing buffer.
            var full = Path.Combine(dir.FullName, "full");
            var lines = new List<string> { "config 1", "monitor 2" };
            var minor = 3;
            for (var g = 0; g < 32; g++)
            {
                for (var gi = 0; gi < 15; gi++)
                {
                    lines.Add($"gpu{g}/gi{gi}/access {minor++}");
                    for (var ci = 0; ci < 8; ci++)
                    {
                        lines.Add($"gpu{g}/gi{gi}/ci{ci}/access {minor++}");
                    }
                }
            }

            await File.WriteAllTextAsync(full, string.Join('\n', lines) + "\n");
            Assert.True(new FileInfo(full).Length > 32 * 1024);
            Assert.Equal(minor - 1, (await MigCapabilityMinorsParser.ReadAsync(full, CancellationToken.None)).ComputeInstance(31, 14, 7));

            // Exactly at the byte bound passes the byte check (read whole, then refused by the line bound); one byte more
            // is refused by the byte bound.
            var atBound = Path.Combine(dir.FullName, "at-bound");
            var padded = Sample + new string('\n', MigCapabilityMinorsParser.MaxBytes - System.Text.Encoding.UTF8.GetByteCount(Sample));
            await File.WriteAllTextAsync(atBound, padded);
            Assert.Contains($"more than {MigCapabilityMinorsParser.MaxLines} lines", (await Assert.ThrowsAsync<FormatException>(() => MigCapabilityMinorsParser.ReadAsync(atBound, CancellationToken.None))).Message, StringComparison.Ordinal);
            await File.WriteAllTextAsync(atBound, padded + "\n");
            Assert.Contains($"longer than {MigCapabilityMinorsParser.MaxBytes} bytes", (await Assert.ThrowsAsync<FormatException>(() => MigCapabilityMinorsParser.ReadAsync(atBound, CancellationToken.None))).Message, StringComparison.Ordinal);

            var bad = Path.Combine(dir.FullName, "bad");
            await File.WriteAllBytesAsync(bad, [0x63, 0xff, 0x20, 0x31]);
            Assert.Contains("not valid UTF-8", (await Assert.ThrowsAsync<FormatException>(() => MigCapabilityMinorsParser.ReadAsync(bad, CancellationToken.None))).Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
