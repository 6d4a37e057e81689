namespace SecureDra.Kube.Client;

/// <summary>A token fixed for the process lifetime (kubeconfig <c>token</c>).</summary>
public sealed class StaticTokenSource(string token) : IKubeTokenSource
{
    public ValueTask<string?> GetTokenAsync(CancellationToken cancellationToken) => ValueTask.FromResult<string?>(token);
}
