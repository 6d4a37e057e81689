using System.Diagnostics;
using System.Text;

namespace SecureDra.Fuzz;

/// <summary>One input shape grown to two sizes: the time ratio against the size ratio.</summary>
public sealed record ScalingResult(string Shape, int SmallBytes, int LargeBytes, TimeSpan Small, TimeSpan Large)
{
    public double SizeRatio => (double)LargeBytes / SmallBytes;

    public double TimeRatio => Large.TotalSeconds / Math.Max(Small.TotalSeconds, 1e-6);

    /// <summary>Linear growth gives a time ratio near the size ratio; quadratic gives its square. Half-way (in log) between is the line.</summary>
    public bool LooksSuperLinear => TimeRatio > Math.Pow(SizeRatio, 1.5) && Large > TimeSpan.FromMilliseconds(50);
}

/// <summary>
/// The "time roughly linear in input size" oracle: shapes known to hurt parsers (deep nesting, long strings, many
/// keys, many documents) at two sizes, best of three runs each. It measures time, so it is run by hand or by the
/// long run (<c>securedra-fuzz scaling TARGET</c>), never as a CI assertion; CI only has the hang bound.
/// </summary>
public static class ScalingCheck
{
    private static readonly (string Name, string Prefix, string Unit, string Suffix, string Close)[] Shapes =
    [
        ("nested JSON arrays", "", "[", "1", "]"),
        ("nested JSON objects", "", "{\"a\":", "1", "}"),
        ("nested flow sequences after a key", "a: ", "[", "", "]"),
        ("nested block sequences", "", "- ", "x", ""),
        ("long string", "{\"a\":\"", "x", "\"}", ""),
        ("many keys", "{", "\"k\":1,", "\"z\":1}", ""),
        ("many documents", "", "---\na: 1\n", "", ""),
        ("many lines", "", "{}\n", "", ""),
    ];

    public static IEnumerable<ScalingResult> Run(IFuzzTarget target, int smallUnits = 2_000, int factor = 8)
    {
        ArgumentNullException.ThrowIfNull(target);
        foreach (var (name, prefix, unit, suffix, close) in Shapes)
        {
            var small = Build(prefix, unit, suffix, close, smallUnits);
            var large = Build(prefix, unit, suffix, close, smallUnits * factor);
            if (large.Length > target.MaxInputBytes * 8)
            {
                continue;
            }

            yield return new ScalingResult(name, small.Length, large.Length, Best(target, small), Best(target, large));
        }
    }

    private static byte[] Build(string prefix, string unit, string suffix, string close, int n)
    {
        var builder = new StringBuilder(prefix);
        for (var i = 0; i < n; i++)
        {
            // Block sequences nest by indentation: each level one space deeper.
            builder.Append(unit == "- " ? new string(' ', i) + unit + "\n" : unit);
        }

        builder.Append(suffix);
        for (var i = 0; i < n && close.Length > 0; i++)
        {
            builder.Append(close);
        }

        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    private static TimeSpan Best(IFuzzTarget target, byte[] input)
    {
        var best = TimeSpan.MaxValue;
        for (var i = 0; i < 3; i++)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                target.Run(input);
            }
#pragma warning disable CA1031 // A finding is not what this measures; the smoke and AFL++ report those.
            catch (Exception)
#pragma warning restore CA1031
            {
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            best = elapsed < best ? elapsed : best;
        }

        return best;
    }
}
