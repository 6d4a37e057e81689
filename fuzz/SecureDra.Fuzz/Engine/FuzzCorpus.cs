using System.Globalization;

namespace SecureDra.Fuzz;

/// <summary>The seeds (<c>fuzz/corpus/&lt;target&gt;/*</c>) and AFL-format dictionary (<c>fuzz/dict/&lt;target&gt;.dict</c>) of one target.</summary>
public sealed record FuzzCorpus(IReadOnlyList<(string Name, byte[] Bytes)> Seeds, IReadOnlyList<byte[]> Dictionary)
{
    /// <summary>Loads the corpus of <paramref name="target"/> from the repository's <c>fuzz</c> folder.</summary>
    public static FuzzCorpus Load(string fuzzDirectory, string target)
    {
        var seedDir = Path.Combine(fuzzDirectory, "corpus", target);
        var seeds = Directory.Exists(seedDir)
            ? Directory.GetFiles(seedDir).Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToList()
            : [];
        var dictFile = Path.Combine(fuzzDirectory, "dict", target + ".dict");
        var dictionary = File.Exists(dictFile) ? ParseDictionary(File.ReadAllLines(dictFile)) : [];
        return new FuzzCorpus(seeds, dictionary);
    }

    /// <summary>Finds the repository's <c>fuzz</c> folder from <paramref name="start"/> upwards.</summary>
    public static string FindFuzzDirectory(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "fuzz", "corpus");
            if (Directory.Exists(candidate))
            {
                return Path.Combine(dir.FullName, "fuzz");
            }
        }

        throw new DirectoryNotFoundException($"no fuzz/corpus folder above {start}");
    }

    /// <summary>AFL dictionary lines: <c>name="value"</c> or <c>"value"</c>, with <c>\\</c>, <c>\"</c> and <c>\xNN</c> escapes; # comments.</summary>
    public static List<byte[]> ParseDictionary(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var tokens = new List<byte[]>();
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            var open = line.IndexOf('"', StringComparison.Ordinal);
            if (line.Length == 0 || line[0] == '#' || open < 0 || !line.EndsWith('"') || line.Length - open < 2)
            {
                continue;
            }

            var body = line[(open + 1)..^1];
            var bytes = new List<byte>();
            for (var i = 0; i < body.Length; i++)
            {
                if (body[i] == '\\' && i + 1 < body.Length)
                {
                    if (body[i + 1] == 'x' && i + 3 < body.Length)
                    {
                        bytes.Add(byte.Parse(body.AsSpan(i + 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        i += 3;
                        continue;
                    }

                    bytes.Add((byte)body[++i]);
                    continue;
                }

                bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(body[i].ToString()));
            }

            tokens.Add([.. bytes]);
        }

        return tokens;
    }
}
