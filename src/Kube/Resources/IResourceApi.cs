namespace SecureDra.Kube.Resources;

/// <summary>
/// Typed, version-negotiated access to resource.k8s.io for the kubelet plugin: discovers the
/// newest served version of v1, v1beta2, v1beta1 and converts between <see cref="ResourceSliceModel"/>
/// / <see cref="ResourceClaimModel"/> and that version's wire shape.
/// </summary>
public interface IResourceApi
{
    /// <summary>The version in use; valid after <see cref="NegotiateAsync"/>.</summary>
    ResourceApiVersion Version { get; }

    /// <summary>Reads discovery and picks the newest served version; throws a clear error when none is served.</summary>
    Task<ResourceApiVersion> NegotiateAsync(CancellationToken cancellationToken);

    /// <summary>Null when the claim does not exist.</summary>
    Task<ResourceClaimModel?> GetClaimAsync(string @namespace, string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<ResourceSliceModel>> ListSlicesAsync(string driver, string nodeName, CancellationToken cancellationToken);

    Task<ResourceSliceModel> CreateSliceAsync(ResourceSliceModel slice, CancellationToken cancellationToken);

    Task<ResourceSliceModel> UpdateSliceAsync(ResourceSliceModel slice, CancellationToken cancellationToken);

    Task DeleteSliceAsync(string name, CancellationToken cancellationToken);
}
