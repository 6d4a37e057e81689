using System.Globalization;
using CsCheck;
using Xunit.Abstractions;

namespace SecureDra.KubeletPlugin.Tests.Lifecycle;

/// <summary>
/// The MIG lifecycle model (<see cref="MigLifecycleModel"/>, docs/mig.md "Lifecycle model"). CI runs fixed seeds;
/// SECUREDRA_MIG_LIFECYCLE_SEQUENCES overrides their count, and the soak (SECUREDRA_MIG_LIFECYCLE_SOAK=&lt;count&gt;)
/// samples random sequences with CsCheck and shrinks a failure to a minimal sequence. The mutation tests show the
/// model is not vacuous: without the per-instance scrub, or with a scrub that reaches past its instance, it fails.
/// </summary>
public class MigLifecycleModelTests(ITestOutputHelper output)
{
    private const int CiSequences = 100;

    [Fact]
    public async Task Fixed_seed_mig_sequences_keep_every_isolation_invariant()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("SECUREDRA_MIG_LIFECYCLE_SEQUENCES"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : CiSequences;
        var steps = 0;
        var seen = new List<MigLifecycleModel.Coverage>();
        for (var i = 0; i < count; i++)
        {
            var ops = MigLifecycleOp.Sequence.Generate(new PCG(13, (ulong)i), null, out _);
            steps += ops.Length;
            seen.Add(await RunOneAsync(ops, $"sequence {i}"));
        }

        var line = $"{count} sequences, {steps} steps: instance prepares {seen.Sum(s => s.InstancePrepares)}, whole-GPU prepares {seen.Sum(s => s.WholeGpuPrepares)}, " +
            $"instance releases {seen.Sum(s => s.InstanceReleases)} ({seen.Sum(s => s.FailedInstanceScrubs)} left dirty by a failed scrub), MIG off {seen.Sum(s => s.MigOff)} / on {seen.Sum(s => s.MigOn)}, crashes {seen.Sum(s => s.Crashes)}";
        output.WriteLine(line + ": every invariant held");
        if (count >= CiSequences)
        {
            // Not vacuous: the CI seeds reach every kind of event the invariants are about.
            Assert.True(seen.Sum(s => s.InstancePrepares) > 20 && seen.Sum(s => s.WholeGpuPrepares) > 0 && seen.Sum(s => s.FailedInstanceScrubs) > 0
                && seen.Sum(s => s.MigOff) > 0 && seen.Sum(s => s.MigOn) > 0 && seen.Sum(s => s.Crashes) > 5, line);
        }
    }

    [Fact]
    [Trait("Category", "Soak")]
    public async Task Soak_random_mig_sequences_and_shrink_any_failure()
    {
        if (!long.TryParse(Environment.GetEnvironmentVariable("SECUREDRA_MIG_LIFECYCLE_SOAK"), NumberStyles.None, CultureInfo.InvariantCulture, out var iterations))
        {
            return; // SECUREDRA_MIG_LIFECYCLE_SOAK=2000 dotnet test --filter Soak_random_mig
        }

        await MigLifecycleOp.Sequence.SampleAsync(
            ops => RunOneAsync(ops, "sample"),
            writeLine: output.WriteLine,
            iter: iterations,
            threads: 1,
            print: ops => string.Join(" ", ops.Select(o => o.ToString())));
    }

    [Theory]
    [InlineData(MigScrubUnderTest.Skipped, "is offered but its memory is not zero")]
    [InlineData(MigScrubUnderTest.Overreaching, "changed under its running container")]
    public async Task A_broken_instance_scrub_makes_the_fixed_seeds_fail(MigScrubUnderTest scrub, string expected)
    {
        for (var i = 0; i < CiSequences; i++)
        {
            var ops = MigLifecycleOp.Sequence.Generate(new PCG(13, (ulong)i), null, out _);
            try
            {
                await RunOneAsync(ops, $"sequence {i}", scrub);
            }
            catch (LifecycleViolation ex)
            {
                output.WriteLine($"{scrub}: {ex.Message}");
                Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
                return;
            }
        }

        Assert.Fail($"the model did not notice a {scrub} per-instance scrub in {CiSequences} sequences");
    }

    [Fact]
    public Task A_neighbour_s_release_leaves_a_running_tenant_s_memory_alone() =>
        (Task)RunOneAsync(
            [new(MigLifecycleOpKind.Prepare, 0, 0), new(MigLifecycleOpKind.Prepare, 0, 1), new(MigLifecycleOpKind.Prepare, 0, 2), new(MigLifecycleOpKind.Unprepare, 0, 0),
             new(MigLifecycleOpKind.Prepare, 0, 0), new(MigLifecycleOpKind.ContainersWrite, 0, 0)],
            "three tenants");

    [Fact]
    public Task A_failed_slice_scrub_then_mig_off_keeps_the_whole_gpu_out_until_it_is_scrubbed() =>
        (Task)RunOneAsync(
            [new(MigLifecycleOpKind.Prepare, 0, 1), new(MigLifecycleOpKind.ScrubFault, 0, 1), new(MigLifecycleOpKind.Unprepare, 0, 0), new(MigLifecycleOpKind.MigToggle, 0, 0),
             new(MigLifecycleOpKind.Prepare, 0, 0), new(MigLifecycleOpKind.RetryTick, 0, 0), new(MigLifecycleOpKind.Prepare, 0, 0), new(MigLifecycleOpKind.Unprepare, 0, 0),
             new(MigLifecycleOpKind.MigToggle, 0, 0), new(MigLifecycleOpKind.Prepare, 0, 2)],
            "slice fault across a MIG toggle");

    [Fact]
    public async Task Fixed_seed_mig_sequences_from_a_first_start_without_a_checkpoint_keep_every_isolation_invariant()
    {
        // A first install on a GPU already in MIG mode, memory full of a previous tenant's bytes; the first CI seeds.
        var prepares = 0;
        for (var i = 0; i < FirstStartSequences; i++)
        {
            var ops = MigLifecycleOp.Sequence.Generate(new PCG(13, (ulong)i), null, out _);
            prepares += (await RunOneAsync(ops, $"first start, sequence {i}", firstStart: true)).InstancePrepares;
        }

        // Not vacuous: the proven instances are handed to tenants (before the fix none ever was).
        Assert.True(prepares > 5, $"only {prepares} instance prepares succeeded after a first start");
    }

    [Fact]
    public async Task A_first_start_without_the_per_instance_scrub_fails_the_model_at_once()
    {
        var ex = await Assert.ThrowsAsync<LifecycleViolation>(() => RunOneAsync([], "first start", MigScrubUnderTest.Skipped, firstStart: true));
        Assert.Contains("step 0", ex.Message, StringComparison.Ordinal);
        Assert.Contains("is offered but its memory is not zero", ex.Message, StringComparison.Ordinal);
    }

    private const int FirstStartSequences = 25;

    internal static async Task<MigLifecycleModel.Coverage> RunOneAsync(IReadOnlyList<MigLifecycleOp> ops, string name, MigScrubUnderTest scrub = MigScrubUnderTest.Real, bool firstStart = false)
    {
        await using var model = await MigLifecycleModel.StartAsync(scrub, firstStart);
        try
        {
            await model.RunAsync(ops);
            return model.Seen;
        }
        catch (LifecycleViolation ex)
        {
            throw new LifecycleViolation($"{name}: {ex.Message}\nsequence: {string.Join(" ", ops)}");
        }
    }
}
