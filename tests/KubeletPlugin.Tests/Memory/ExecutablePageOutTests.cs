using System.IO.MemoryMappedFiles;
using System.Security.Cryptography;
using SecureDra.KubeletPlugin.Memory;

namespace SecureDra.KubeletPlugin.Tests.Memory;

/// <summary>
/// The page-out really gives memory back: the resident pages of a file mapping that only this process maps leave
/// its RSS, and what it reads afterwards is still the file's bytes (the pages fault back in). The file lives beside
/// the test binaries, on a disk: tmpfs pages could not be reclaimed without swap.
/// </summary>
public sealed class ExecutablePageOutTests
{
    [Fact]
    public void Paging_out_drops_the_resident_pages_of_a_file_only_this_process_maps_and_the_bytes_read_back_intact()
    {
        var dir = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "pageout-" + Guid.NewGuid().ToString("N")[..8]));
        try
        {
            var path = Path.Combine(dir.FullName, "image.bin");
            var bytes = RandomNumberGenerator.GetBytes(8 << 20);
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: true); // clean pages: the kernel reclaims only what is already on disk
            }

            using var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            using var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            for (long offset = 0; offset < bytes.Length; offset += 4096)
            {
                Assert.Equal(bytes[offset], view.ReadByte(offset));
            }

            var result = ExecutablePageOut.Run(path);

            Assert.Equal(1, result.Mappings);
            Assert.True(result.ResidentBefore >= 7 << 20, $"only {result.ResidentBefore} bytes resident after touching every page");
            Assert.True(result.ResidentAfter <= result.ResidentBefore / 8, $"{result.ResidentAfter} of {result.ResidentBefore} bytes still resident after the page-out");
            // A page used again comes back alone: no read-around window mapped with it (MADV_RANDOM), so what the
            // steady calls touch is what stays resident, not 64 KiB around each touched page.
            Assert.Equal(bytes[4 << 20], view.ReadByte(4 << 20));
            var resident = ProcessMappings.Read("/proc/self/smaps").Where(m => m.Path == path).Sum(m => m.ResidentBytes);
            Assert.True(resident <= 16 << 10, $"{resident} bytes resident after reading one page back");

            var readBack = new byte[bytes.Length];
            view.ReadArray(0, readBack, 0, readBack.Length);
            Assert.Equal(bytes, readBack);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Writable_mappings_and_other_files_are_left_alone()
    {
        var dir = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "pageout-" + Guid.NewGuid().ToString("N")[..8]));
        try
        {
            var path = Path.Combine(dir.FullName, "data.bin");
            File.WriteAllBytes(path, new byte[1 << 20]);
            using var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
            using var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.ReadWrite);
            view.Write(0, (byte)1);

            // A writable mapping may hold dirty pages: it is not a target. A path nothing maps matches nothing.
            Assert.Equal(0, ExecutablePageOut.Run(path).Mappings);
            Assert.Equal(0, ExecutablePageOut.Run(Path.Combine(dir.FullName, "absent.bin")).Mappings);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_process_trim_covers_the_executable_and_its_shared_libraries_only()
    {
        var exe = File.ResolveLinkTarget("/proc/self/exe", returnFinalTarget: true)!.FullName;
        var readOnly = ProcessMappings.Read("/proc/self/smaps").Where(m => m.Path.StartsWith('/') && m.Permissions[1] != 'w').ToArray();
        var expected = readOnly.Count(m => m.Path == exe || Path.GetFileName(m.Path).EndsWith(".so", StringComparison.Ordinal) || Path.GetFileName(m.Path).Contains(".so.", StringComparison.Ordinal));
        Assert.True(readOnly.Any(m => m.Path.EndsWith(".dll", StringComparison.Ordinal)), "the test host maps managed assemblies (not libraries by name)");

        var result = ExecutablePageOut.Run();

        Assert.Equal(exe, result.Executable);
        Assert.True(result.Mappings > readOnly.Count(m => m.Path == exe), "no shared library was paged out");
        // Managed assemblies and other mapped files are not libraries by name: left alone (counts are read at two moments,
        // so only bounds that a library loaded in between cannot break).
        Assert.True(result.Mappings < readOnly.Length - readOnly.Count(m => m.Path.EndsWith(".dll", StringComparison.Ordinal)) + 8, $"{result.Mappings} mappings paged out, {expected} expected");
    }

    [Fact]
    public void Smaps_parsing_reads_ranges_permissions_paths_with_spaces_and_resident_sizes()
    {
        using var dir = TempDir.Create();
        var smaps = Path.Combine(dir.Path, "smaps");
        File.WriteAllText(smaps, """
            00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/secure dra
            Size:                328 kB
            Rss:                 120 kB
            VmFlags: rd ex mr mw me dw
            7f0000000000-7f0000021000 rw-p 00000000 00:00 0
            Size:                132 kB
            Rss:                   8 kB
            garbage line
            """);
        var mappings = ProcessMappings.Read(smaps);
        Assert.Equal(2, mappings.Count);
        Assert.Equal(new ProcessMapping(0x400000, 0x452000, "r-xp", "/usr/bin/secure dra", 120 * 1024), mappings[0]);
        Assert.Equal(new ProcessMapping(0x7f0000000000, 0x7f0000021000, "rw-p", string.Empty, 8 * 1024), mappings[1]);
    }
}
