using SecureDra.Fuzz;
using Xunit.Abstractions;

namespace SecureDra.Fuzz.Tests;

/// <summary>
/// The CI smoke: for every target, replay its corpus (with the slow file-path checks), then run a fixed-seed
/// mutation loop. A failure prints the target, the seed, the finding and the input (base64) so it reproduces
/// with <c>dotnet run --project fuzz/SecureDra.Fuzz.Runner -- mutate TARGET COUNT SEED</c>; the input then becomes a
/// corpus entry and a regression test.
/// </summary>
public sealed class FuzzSmokeTests(ITestOutputHelper output)
{
    /// <summary>Mutants per target: tens of thousands, a few seconds each on a loaded 2-core machine.</summary>
    private const int Mutants = 20_000;

    private const int Seed = 16;

    /// <summary>A hang, as AFL++ would call it: microseconds are normal, so only a blow-up reaches this.</summary>
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(5);

    private static readonly string FuzzDirectory = FuzzCorpus.FindFuzzDirectory(AppContext.BaseDirectory);

    [Theory]
    [InlineData("gpuconfig")]
    [InlineData("manifest-reader")]
    [InlineData("manifest-validator")]
    [InlineData("resource-claim")]
    [InlineData("resource-slice")]
    [InlineData("admission-review")]
    [InlineData("grpc-claims")]
    public void Corpus_replays_and_mutants_keep_every_oracle(string name) => Smoke(name);

    [Fact]
    public void Watch_stream_keeps_every_oracle() => Smoke("watch-stream");

    [Fact]
    public void Checkpoint_keeps_every_oracle() => Smoke("checkpoint");

    [Fact]
    public void Kubeconfig_keeps_every_oracle() => Smoke("kubeconfig");

    [Fact]
    public void Every_registered_target_has_a_corpus_and_a_smoke()
    {
        foreach (var name in FuzzTargets.Names)
        {
            Assert.NotEmpty(FuzzCorpus.Load(FuzzDirectory, name).Seeds);
            Assert.Equal(name, FuzzTargets.Create(name).Name);
        }
    }

    private void Smoke(string name)
    {
        var corpus = FuzzCorpus.Load(FuzzDirectory, name);
        var replay = FuzzLoop.Run(FuzzTargets.Create(name, slowPaths: true), corpus.Seeds.Select(s => s.Bytes), HangBound);
        Report("replay", replay);
        var target = FuzzTargets.Create(name);
        var mutation = FuzzLoop.Mutate(target, corpus, Seed, Mutants, HangBound);
        Report($"mutate seed {Seed}", mutation);
        Assert.True(replay.Executions == corpus.Seeds.Count, "every seed is replayed");
        Assert.True(mutation.Executions == Mutants, "every mutant is run");
        Assert.True(mutation.Accepted + mutation.Rejected > Mutants / 10, $"at least a tenth of the mutants must reach the parser, got {mutation.Accepted + mutation.Rejected}");
        (target as IDisposable)?.Dispose();
    }

    private void Report(string phase, FuzzLoopReport report)
    {
        output.WriteLine($"{report.Target} {phase}: {report.Executions} inputs in {report.Elapsed.TotalSeconds:0.00} s, {report.Accepted} accepted, {report.Rejected} rejected, {report.NotApplicable} not applicable; slowest {report.SlowestInput.TotalMilliseconds:0.0} ms ({report.SlowestInputBytes} bytes)");
        if (report.Finding is not null)
        {
            Assert.Fail($"{report.Target} {phase}: {report.Finding}\ninput (base64): {Convert.ToBase64String(report.FindingInput!)}");
        }
    }
}
