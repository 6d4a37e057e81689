namespace SecureDra.Controller.Audit.Sources;

/// <summary>Where a snapshot comes from: a live cluster or a directory of manifests.</summary>
public interface ISnapshotSource
{
    Task<ClusterSnapshot> LoadAsync(CancellationToken cancellationToken);
}
