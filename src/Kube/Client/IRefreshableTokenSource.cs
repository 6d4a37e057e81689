namespace SecureDra.Kube.Client;

/// <summary>
/// A token source that can be told the server refused its token (401): the next <see cref="IKubeTokenSource.GetTokenAsync"/>
/// fetches a fresh one (re-reads the file, re-runs the exec plugin) instead of returning the cached one, as client-go does.
/// </summary>
public interface IRefreshableTokenSource : IKubeTokenSource
{
    /// <summary>Drops <paramref name="rejectedToken"/> if it is still the cached token (a newer one is kept).</summary>
    void Invalidate(string rejectedToken);
}
