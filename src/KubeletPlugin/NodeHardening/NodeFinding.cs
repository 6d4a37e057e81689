namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>
/// One result of the node checks. <see cref="NodeFindingState.Open"/>: a path to a GPU around DRA is
/// open on this node (or cannot be verified closed): with <c>--require-node-hardening</c> the node's
/// devices are not published. <see cref="NodeFindingState.Advisory"/>: worth an operator's look, not
/// a path by itself. <see cref="Id"/> is stable (metric label, log field, docs).
/// </summary>
public sealed record NodeFinding(string Id, string Path, NodeFindingState State, string Source, string Message, string Fix)
{
    /// <summary>One line for /readyz, logs and the Node Event.</summary>
    public string Line => $"{Id} [{Path}] {Source}: {Message}; fix: {Fix}";
}

public enum NodeFindingState
{
    Open,
    Advisory,
}
