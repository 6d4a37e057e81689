namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>One read-only check of node files. Returns findings; never throws for a file's content.</summary>
public interface INodeCheck
{
    string Name { get; }

    IReadOnlyList<NodeFinding> Run();
}
