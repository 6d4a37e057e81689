namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// Lets a caller wait until the ResourceSlices on the API server reflect an inventory version
/// (e.g. a withdrawal). Implemented by <see cref="ResourceSlicePublisher"/>.
/// </summary>
public interface ISlicePublication
{
    /// <summary>The newest inventory version known to be published.</summary>
    long PublishedVersion { get; }

    /// <summary>
    /// Completes when a version ≥ <paramref name="inventoryVersion"/> is published; throws
    /// <see cref="OperationCanceledException"/> when the token fires first (API server down).
    /// </summary>
    Task WaitForPublishedAsync(long inventoryVersion, CancellationToken cancellationToken);
}
