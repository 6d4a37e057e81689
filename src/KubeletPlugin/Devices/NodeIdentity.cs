using SecureDra.Kube.Client;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Pipeline;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// This node's Node object UID: the owner of its ResourceSlices, and what its Node Events name. It owns
/// the lookup (one GET of the Node, kept once found); the slice publisher asks for it, and event writers
/// read <see cref="Uid"/>, null until then, so evidence never waits on an API call of its own.
/// </summary>
public sealed class NodeIdentity(IKubeApiClient kube, PipelineContext context)
{
    private string? _uid;

    /// <summary>The UID once <see cref="ResolveUidAsync"/> has read it; null before.</summary>
    public string? Uid => Volatile.Read(ref _uid);

    /// <summary>The Node's UID, read from the API server until it is known; null when the Node has none yet.</summary>
    /// <exception cref="KubeApiException">The API server did not answer.</exception>
    public async Task<string?> ResolveUidAsync(CancellationToken cancellationToken)
    {
        if (Uid is { } known)
        {
            return known;
        }

        var node = await kube.GetAsync(KubeResource.Nodes, null, context.Plugin.NodeName, cancellationToken).ConfigureAwait(false);
        var uid = node?["metadata"]?["uid"]?.GetValue<string>();
        if (uid is not null)
        {
            Volatile.Write(ref _uid, uid);
        }

        return uid;
    }
}
