using SecureDra.Kube.Client;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Pipeline;

namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// This node's Node object UID: the owner of its ResourceSlices, and what its Node Events name. The one owner of
/// the lookup (one GET of the Node, kept once found): every user asks it through <see cref="ResolveUidAsync"/>,
/// so none depends on another having asked first (no value one component writes and another reads).
/// </summary>
public sealed class NodeIdentity(IKubeApiClient kube, PipelineContext context)
{
    private string? _uid;

    /// <summary>The Node's UID, read from the API server until it is known; null when the Node has none yet.</summary>
    /// <exception cref="KubeApiException">The API server did not answer.</exception>
    public async Task<string?> ResolveUidAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _uid) is { } known)
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
