using System.Globalization;
using System.Text;

namespace SecureDra.KubeletPlugin.Devices.Mig;

/// <summary>
/// Strict, bounded reader of <c>/proc/driver/nvidia-caps/mig-minors</c>. Each line is <c>&lt;name&gt; &lt;minor&gt;</c>
/// with name <c>config</c>, <c>monitor</c>, <c>gpu&lt;g&gt;/gi&lt;i&gt;/access</c> or <c>gpu&lt;g&gt;/gi&lt;i&gt;/ci&lt;c&gt;/access</c>.
/// The file decides which device nodes a container receives, so anything else (an unknown name, a duplicate name or
/// minor, a number with a sign or leading zeros, an index or minor past its bound, more bytes or lines than the
/// driver ever writes) is refused with the line number and the limit, never guessed around.
/// </summary>
public static class MigCapabilityMinorsParser
{
    public const string DefaultPath = "/proc/driver/nvidia-caps/mig-minors";

    /// <summary>The driver lists 32 GPUs × 15 GPU instances × (1 + 8 compute instances) + 2 entries (~4,300 lines, ~110 KB).</summary>
    public const int MaxBytes = 1024 * 1024;

    public const int MaxLines = 16 * 1024;

    /// <summary>Linux device minors are 20 bits.</summary>
    public const int MaxMinor = (1 << 20) - 1;

    public const int MaxGpuIndex = 255;

    public const int MaxInstanceIndex = 63;

    /// <summary>Reads and parses the file; at most <see cref="MaxBytes"/> are read (a longer file is refused).</summary>
    public static async Task<MigCapabilityMinors> ReadAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.Asynchronous);
        // The buffer grows with what the file holds (a few KiB on a real node), up to the limit + 1, rather than being a
        // 1 MiB large-object allocation at every read (docs/performance.md §10.2 found the same pattern in NodeFileReader).
        var buffer = new byte[16 * 1024];
        var total = 0;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (buffer.Length == MaxBytes + 1)
                {
                    break;
                }

                Array.Resize(ref buffer, Math.Min(2 * buffer.Length, MaxBytes + 1));
            }

            // procfs files report size 0: read until end of file rather than trusting Length.
            var read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        if (total > MaxBytes)
        {
            throw new FormatException($"{path}: longer than {MaxBytes} bytes");
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(buffer, 0, total);
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException($"{path}: not valid UTF-8");
        }

        return Parse(text, path);
    }

    public static MigCapabilityMinors Parse(string text, string source = DefaultPath)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxBytes)
        {
            throw new FormatException($"{source}: longer than {MaxBytes} bytes");
        }

        int? config = null, monitor = null;
        var gpuInstances = new Dictionary<(int, int), int>();
        var computeInstances = new Dictionary<(int, int, int), int>();
        var minors = new HashSet<int>();
        var lines = text.Split('\n');
        var count = lines.Length - (text.EndsWith('\n') ? 1 : 0);
        if (count > MaxLines)
        {
            throw new FormatException($"{source}: more than {MaxLines} lines");
        }

        for (var i = 0; i < count; i++)
        {
            var where = $"{source} line {i + 1}";
            var line = lines[i];
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space <= 0 || line.IndexOf(' ', space + 1) >= 0)
            {
                throw new FormatException($"{where}: expected '<name> <minor>'");
            }

            var name = line[..space];
            var minor = Number(line[(space + 1)..], MaxMinor, where, "minor");
            if (!minors.Add(minor))
            {
                throw new FormatException($"{where}: minor {minor} is listed twice");
            }

            if (name == "config" || name == "monitor")
            {
                if ((name == "config" ? config : monitor) is not null)
                {
                    throw new FormatException($"{where}: {name} is listed twice");
                }

                if (name == "config")
                {
                    config = minor;
                }
                else
                {
                    monitor = minor;
                }

                continue;
            }

            var parts = name.Split('/');
            if (parts is not ([_, _, "access"] or [_, _, _, "access"]))
            {
                throw new FormatException($"{where}: unknown name (expected config, monitor, gpu<g>/gi<i>/access or gpu<g>/gi<i>/ci<c>/access)");
            }

            var gpu = Index(parts[0], "gpu", MaxGpuIndex, where);
            var gi = Index(parts[1], "gi", MaxInstanceIndex, where);
            var added = parts.Length == 3
                ? gpuInstances.TryAdd((gpu, gi), minor)
                : computeInstances.TryAdd((gpu, gi, Index(parts[2], "ci", MaxInstanceIndex, where)), minor);
            if (!added)
            {
                throw new FormatException($"{where}: {name} is listed twice");
            }
        }

        return new MigCapabilityMinors(config, monitor, gpuInstances, computeInstances);
    }

    private static int Index(string part, string prefix, int max, string where) =>
        part.StartsWith(prefix, StringComparison.Ordinal)
            ? Number(part[prefix.Length..], max, where, prefix + " index")
            : throw new FormatException($"{where}: unknown name (expected {prefix}<n> in '{Truncate(part)}')");

    private static int Number(string s, int max, string where, string what)
    {
        // Digits only, no sign, no leading zero, within the bound: what the driver writes and nothing else.
        if (s.Length == 0 || s.Length > 7 || !s.All(char.IsAsciiDigit) || (s.Length > 1 && s[0] == '0'))
        {
            throw new FormatException($"{where}: {what} '{Truncate(s)}' is not a decimal number");
        }

        var n = int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture);
        return n <= max ? n : throw new FormatException($"{where}: {what} {n} is above the limit {max}");
    }

    private static string Truncate(string s) => s.Length <= 32 ? s : s[..32] + "…";
}
