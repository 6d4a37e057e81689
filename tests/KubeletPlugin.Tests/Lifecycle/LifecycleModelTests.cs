using System.Globalization;
using CsCheck;
using Xunit.Abstractions;

namespace SecureDra.KubeletPlugin.Tests.Lifecycle;

/// <summary>
/// Model-based tests of a device's whole life (docs/isolation.md, "Lifecycle model"). CI runs a
/// fixed-seed set of sequences; the soak (SECUREDRA_LIFECYCLE_SOAK=&lt;count&gt;) samples random
/// sequences with CsCheck and shrinks a failure to a minimal sequence, which becomes a regression
/// test in <see cref="LifecycleRegressionTests"/>.
/// </summary>
public class LifecycleModelTests(ITestOutputHelper output)
{
    /// <summary>Sequences in the CI run; SECUREDRA_LIFECYCLE_SEQUENCES overrides.</summary>
    private const int CiSequences = 300;

    [Fact]
    public async Task Fixed_seed_sequences_keep_every_isolation_invariant()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("SECUREDRA_LIFECYCLE_SEQUENCES"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : CiSequences;
        var steps = 0;
        for (var i = 0; i < count; i++)
        {
            var ops = LifecycleOp.Sequence.Generate(new PCG(7, (ulong)i), null, out _);
            steps += ops.Length;
            await RunOneAsync(ops, $"sequence {i}");
        }

        output.WriteLine($"{count} sequences, {steps} steps: every invariant held");
    }

    [Fact]
    [Trait("Category", "Soak")]
    public async Task Soak_random_sequences_and_shrink_any_failure()
    {
        if (!long.TryParse(Environment.GetEnvironmentVariable("SECUREDRA_LIFECYCLE_SOAK"), NumberStyles.None, CultureInfo.InvariantCulture, out var iterations))
        {
            return; // a benchmark-style run: SECUREDRA_LIFECYCLE_SOAK=10000 dotnet test --filter Soak_random
        }

        await LifecycleOp.Sequence.SampleAsync(
            ops => RunOneAsync(ops, "sample"),
            writeLine: output.WriteLine,
            iter: iterations,
            threads: 1,
            print: ops => string.Join(" ", ops.Select(o => o.ToString())));
    }

    internal static async Task RunOneAsync(IReadOnlyList<LifecycleOp> ops, string name)
    {
        await using var model = await LifecycleModel.StartAsync();
        try
        {
            await model.RunAsync(ops);
        }
        catch (LifecycleViolation ex)
        {
            throw new LifecycleViolation($"{name}: {ex.Message}\nsequence: {string.Join(" ", ops)}");
        }
    }
}

/// <summary>
/// Sequences that broke isolation before issue 10 (each was a counterexample of the model against
/// the old code), kept as plain tests.
/// </summary>
public class LifecycleRegressionTests
{
    private static LifecycleOp Op(LifecycleOpKind kind, int a = 0, int b = 0, int x = 0, int y = 0) => new(kind, a, b, x, y);

    [Fact]
    public Task Reaper_never_frees_a_gpu_whose_claim_the_tenant_deleted() =>
        LifecycleModelTests.RunOneAsync(
            [Op(LifecycleOpKind.Prepare), Op(LifecycleOpKind.DeleteClaim), Op(LifecycleOpKind.ReaperTick), Op(LifecycleOpKind.Prepare), Op(LifecycleOpKind.ContainersWrite)],
            "item 1");

    [Fact]
    public Task Following_the_corrupt_checkpoint_advice_does_not_publish_a_gpu_whose_scrub_failed() =>
        LifecycleModelTests.RunOneAsync(
            [Op(LifecycleOpKind.Prepare, x: 1, y: 1), Op(LifecycleOpKind.ContainersWrite), Op(LifecycleOpKind.ScrubFault, a: 0, x: 1), Op(LifecycleOpKind.ScrubFault, a: 0, x: 1),
             Op(LifecycleOpKind.Unprepare), Op(LifecycleOpKind.CorruptCheckpoint), Op(LifecycleOpKind.Prepare, x: 1, y: 1)],
            "item 2");

    [Fact]
    public Task Mig_mode_switched_on_a_prepared_gpu_keeps_it_out_after_release() =>
        LifecycleModelTests.RunOneAsync(
            [Op(LifecycleOpKind.Prepare, x: 2, y: 2), Op(LifecycleOpKind.ContainersWrite), Op(LifecycleOpKind.MigToggle, x: 2), Op(LifecycleOpKind.Unprepare),
             Op(LifecycleOpKind.RetryTick), Op(LifecycleOpKind.Prepare, x: 2, y: 2), Op(LifecycleOpKind.MigToggle, x: 2), Op(LifecycleOpKind.RetryTick), Op(LifecycleOpKind.Prepare, x: 2, y: 2)],
            "item 5");

    [Fact]
    public Task A_crash_after_each_unprepare_step_neither_leaks_nor_wedges() =>
        LifecycleModelTests.RunOneAsync(
            [Op(LifecycleOpKind.Prepare, x: 0, y: 1), Op(LifecycleOpKind.ContainersWrite), Op(LifecycleOpKind.Crash, a: 4), Op(LifecycleOpKind.Unprepare), Op(LifecycleOpKind.RetryTick),
             Op(LifecycleOpKind.Prepare, x: 0, y: 1), Op(LifecycleOpKind.ContainersWrite), Op(LifecycleOpKind.Crash, a: 5), Op(LifecycleOpKind.Unprepare), Op(LifecycleOpKind.RetryTick),
             Op(LifecycleOpKind.Prepare, x: 1, y: 1), Op(LifecycleOpKind.Crash, a: 6), Op(LifecycleOpKind.Restart), Op(LifecycleOpKind.Prepare, x: 0, y: 1)],
            "crash points");
}
