using System.Diagnostics;

namespace SecureDra.Fuzz;

/// <summary>What one in-process run found: counts by verdict, the slowest input, and the first finding with its input.</summary>
public sealed record FuzzLoopReport(
    string Target,
    int Executions,
    int Accepted,
    int Rejected,
    int NotApplicable,
    TimeSpan Elapsed,
    TimeSpan SlowestInput,
    int SlowestInputBytes,
    Exception? Finding,
    byte[]? FindingInput);

/// <summary>
/// The engine of the CI smoke: replays seeds, then runs a fixed-seed mutation loop seeded from them. An input
/// that takes longer than the hang bound is a finding, like an AFL++ hang; the bound is far above the normal
/// time per input (microseconds), so only a hang or a blow-up trips it, not a slow machine.
/// </summary>
public static class FuzzLoop
{
    /// <summary>Runs fixed inputs (a corpus replay).</summary>
    public static FuzzLoopReport Run(IFuzzTarget target, IEnumerable<byte[]> inputs, TimeSpan hangBound)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var enumerator = inputs.GetEnumerator();
        return Drive(target, () => enumerator.MoveNext() ? enumerator.Current : null, static (_, _) => { }, hangBound);
    }

    /// <summary>
    /// <paramref name="count"/> mutants of the seeds, deterministic for a given <paramref name="seed"/>. A mutant that
    /// reached the parser (accepted or rejected by it, not refused by a layer in front) may become a parent itself:
    /// a little feedback, so the loop explores beyond one step from the seeds without drifting into inputs the
    /// target never sees.
    /// </summary>
    public static FuzzLoopReport Mutate(IFuzzTarget target, FuzzCorpus corpus, int seed, int count, TimeSpan hangBound)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(corpus);
        var seeds = corpus.Seeds.Select(s => s.Bytes).DefaultIfEmpty([]).ToList();
        var pool = new List<byte[]>(seeds);
        var mutator = new Mutator(seed, corpus.Dictionary, target.MaxInputBytes);
        var random = new Random(seed ^ 0x5eed);
        var made = 0;

        // Half the parents are seeds: the pool fills with refused inputs over time, and the seeds keep the valid shapes in play.
        byte[] Parent() => random.Next(2) == 0 ? seeds[random.Next(seeds.Count)] : pool[random.Next(pool.Count)];
        return Drive(
            target,
            () => made++ < count ? mutator.Mutate(Parent(), pool) : null,
            (input, verdict) =>
            {
                if (pool.Count < 1024 && (verdict == FuzzVerdict.Accepted ? random.Next(2) == 0 : verdict == FuzzVerdict.Rejected && random.Next(32) == 0))
                {
                    pool.Add(input);
                }
            },
            hangBound);
    }

    private static FuzzLoopReport Drive(IFuzzTarget target, Func<byte[]?> next, Action<byte[], FuzzVerdict> feedback, TimeSpan hangBound)
    {
        ArgumentNullException.ThrowIfNull(target);
        int executions = 0, accepted = 0, rejected = 0, notApplicable = 0, slowestBytes = 0;
        var slowest = TimeSpan.Zero;
        var total = Stopwatch.StartNew();
        while (next() is { } input)
        {
            executions++;
            var started = Stopwatch.GetTimestamp();
            FuzzVerdict verdict;
            try
            {
                verdict = target.Run(input);
            }
            catch (Exception ex)
            {
                return new FuzzLoopReport(target.Name, executions, accepted, rejected, notApplicable, total.Elapsed, slowest, slowestBytes, ex, input);
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            if (elapsed > slowest)
            {
                slowest = elapsed;
                slowestBytes = input.Length;
            }

            if (elapsed > hangBound)
            {
                var hang = new FuzzFindingException($"{target.Name}: hang: one input of {input.Length} bytes took {elapsed.TotalSeconds:0.###} s (bound {hangBound.TotalSeconds:0.###} s)");
                return new FuzzLoopReport(target.Name, executions, accepted, rejected, notApplicable, total.Elapsed, slowest, slowestBytes, hang, input);
            }

            switch (verdict)
            {
                case FuzzVerdict.Accepted: accepted++; break;
                case FuzzVerdict.Rejected: rejected++; break;
                default: notApplicable++; break;
            }

            feedback(input, verdict);
        }

        return new FuzzLoopReport(target.Name, executions, accepted, rejected, notApplicable, total.Elapsed, slowest, slowestBytes, null, null);
    }

    /// <summary><paramref name="count"/> one-step mutants of the seeds, without feedback (for looking at what the mutator makes).</summary>
    public static IEnumerable<byte[]> Mutants(IFuzzTarget target, FuzzCorpus corpus, int seed, int count)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(corpus);
        var pool = corpus.Seeds.Select(s => s.Bytes).DefaultIfEmpty([]).ToList();
        var mutator = new Mutator(seed, corpus.Dictionary, target.MaxInputBytes);
        var random = new Random(seed ^ 0x5eed);
        for (var i = 0; i < count; i++)
        {
            yield return mutator.Mutate(pool[random.Next(pool.Count)], pool);
        }
    }
}
