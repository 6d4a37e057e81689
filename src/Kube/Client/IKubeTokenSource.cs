namespace SecureDra.Kube.Client;

/// <summary>Supplies the bearer token for each request; null sends none (client certificates, the local API server).</summary>
public interface IKubeTokenSource
{
    ValueTask<string?> GetTokenAsync(CancellationToken cancellationToken);
}
