namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>The findings of one run of every node check.</summary>
public sealed record NodeHardeningReport(IReadOnlyList<NodeFinding> Findings, DateTimeOffset At)
{
    public IEnumerable<NodeFinding> Open => Findings.Where(f => f.State == NodeFindingState.Open);

    public bool AnyOpen => Open.Any();
}
