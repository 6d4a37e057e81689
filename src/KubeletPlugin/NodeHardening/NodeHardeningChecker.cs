namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>
/// Runs every node check. A check that throws (a bug, not a file's content) becomes an Open finding
/// naming it: the answer fails closed and the plugin keeps running.
/// </summary>
public sealed class NodeHardeningChecker(IEnumerable<INodeCheck> checks, TimeProvider time)
{
    public NodeHardeningReport Run()
    {
        var findings = new List<NodeFinding>();
        foreach (var check in checks)
        {
            try
            {
                findings.AddRange(check.Run());
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                findings.Add(new NodeFinding($"{check.Name}-check-failed", "-", NodeFindingState.Open, check.Name,
                    $"the check failed ({ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")})", "see the plugin log; report a bug"));
            }
        }

        return new NodeHardeningReport(findings, time.GetUtcNow());
    }

    /// <summary>The standard checks for these options and CDI root.</summary>
    public static IReadOnlyList<INodeCheck> DefaultChecks(NodeHardeningOptions options, string cdiRoot) =>
    [
        new ToolkitConfigCheck(options, cdiRoot),
        new ContainerdConfigCheck(options, cdiRoot),
        new CrioConfigCheck(options),
        new DevicePluginSocketCheck(options),
        new ToolkitVersionCheck(options),
    ];
}
