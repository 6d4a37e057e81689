using System.Diagnostics;
using System.Globalization;

namespace SecureDra.ConfigBench;

/// <summary>Stopwatch timing: a warm-up (lets tiered JIT and PGO settle), then rounds of many iterations.</summary>
internal static class Measure
{
    public sealed record Result(string Name, double MedianNsPerOp, double BestNsPerOp, double WorstNsPerOp, double BytesAllocatedPerOp);

    public static Result Run(string name, int iterationsPerRound, int rounds, Action body)
    {
        var warmUpUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency; // one second
        while (Stopwatch.GetTimestamp() < warmUpUntil)
        {
            for (var i = 0; i < 1000; i++)
            {
                body();
            }
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var perOp = new double[rounds];
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (var r = 0; r < rounds; r++)
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < iterationsPerRound; i++)
            {
                body();
            }

            perOp[r] = Stopwatch.GetElapsedTime(start).TotalNanoseconds / iterationsPerRound;
        }

        var allocated = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / ((double)iterationsPerRound * rounds);
        Array.Sort(perOp);
        return new Result(name, perOp[rounds / 2], perOp[0], perOp[^1], allocated);
    }

    public static string Format(Result r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Name,-58} median {r.MedianNsPerOp / 1000,8:F3} µs  best {r.BestNsPerOp / 1000,8:F3} µs  worst round {r.WorstNsPerOp / 1000,8:F3} µs  alloc {r.BytesAllocatedPerOp,8:F0} B/op");
}
