using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.Kube.Client;
using SecureDra.Kube.Resources.Wire;

namespace SecureDra.Kube.Resources;

/// <summary>
/// <see cref="IResourceApi"/> over <see cref="IKubeApiClient"/>: negotiates the newest served
/// resource.k8s.io version (v1 → v1beta2 → v1beta1, as the Go helper does) and converts each call.
/// When a call gets a 404 and discovery no longer lists the version in use (an API server
/// downgraded or reconfigured under us), it negotiates again and retries that call once.
/// </summary>
public sealed partial class ResourceApi : IResourceApi, IDisposable
{
    private readonly IKubeApiClient _client;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _negotiation = new(1, 1);
    private volatile StrongBox? _version;

    public ResourceApi(IKubeApiClient client, ILogger<ResourceApi>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Raised with the version after every negotiation that picks a different one (the first included): feed /readyz detail and metric labels from it.</summary>
    public event EventHandler<ResourceApiVersion>? VersionChanged;

    public ResourceApiVersion Version =>
        _version?.Value ?? throw new InvalidOperationException("resource.k8s.io version not negotiated yet: call NegotiateAsync first");

    public bool IsNegotiated => _version is not null;

    /// <summary>"v1", "v1beta2" or "v1beta1"; null before negotiation.</summary>
    public string? WireVersion => _version?.Value.ToWire();

    public async Task<ResourceApiVersion> NegotiateAsync(CancellationToken cancellationToken)
    {
        await _negotiation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var served = await ResourceApiDiscovery.ReadServedVersionsAsync(_client, cancellationToken).ConfigureAwait(false);
            var chosen = ResourceApiDiscovery.Select(served);
            if (chosen is null)
            {
                var error = new ResourceApiNotServedException(served);
                LogNoneServed(_logger, string.Join(",", served), error.Message);
                throw error;
            }

            var previous = _version?.Value;
            _version = new StrongBox(chosen.Value);
            LogNegotiated(_logger, chosen.Value.ToWire(), string.Join(",", served), previous?.ToWire() ?? "none");
            if (previous != chosen)
            {
                VersionChanged?.Invoke(this, chosen.Value);
            }

            return chosen.Value;
        }
        finally
        {
            _negotiation.Release();
        }
    }

    public Task<ResourceClaimModel?> GetClaimAsync(string @namespace, string name, CancellationToken cancellationToken) =>
        CallAsync(
            async (version, ct) =>
            {
                var json = await _client.GetAsync(KubeResource.ResourceClaims(version.ToWire()), @namespace, name, ct).ConfigureAwait(false);
                return json is null ? null : ResourceClaimConverter.FromJson(json);
            },
            retryWhenNull: true,
            cancellationToken);

    public Task<IReadOnlyList<ResourceSliceModel>> ListSlicesAsync(string driver, string nodeName, CancellationToken cancellationToken) =>
        CallAsync<IReadOnlyList<ResourceSliceModel>>(
            async (version, ct) =>
            {
                var list = await _client.ListAsync(KubeResource.ResourceSlices(version.ToWire()), null, SliceSelector(driver, nodeName), ct).ConfigureAwait(false);
                return SlicesOf(list, version);
            },
            retryWhenNull: false,
            cancellationToken)!;

    private static KubeListOptions SliceSelector(string driver, string nodeName) =>
        new(FieldSelector: $"spec.driver={driver},spec.nodeName={nodeName}");

    private static List<ResourceSliceModel> SlicesOf(JsonObject list, ResourceApiVersion version)
    {
        var slices = new List<ResourceSliceModel>();
        if (JsonRead.Get(list, "items", "list") is JsonArray items)
        {
            foreach (var item in items)
            {
                if (item is JsonObject obj)
                {
                    // A List's items may carry no apiVersion; the list's version is theirs.
                    DefaultApiVersion(obj, version);
                    slices.Add(ResourceSliceConverter.FromJson(obj));
                }
            }
        }

        return slices;
    }

    // Through JsonRead, not the indexers: a name or string that is not valid UTF-8 must be a
    // KubeObjectFormatException, not an InvalidOperationException from the lazy JSON tree.
    private static void DefaultApiVersion(JsonObject obj, ResourceApiVersion version)
    {
        if (JsonRead.Get(obj, "apiVersion", "apiVersion") is null)
        {
            obj["apiVersion"] = version.ToApiVersion();
        }
    }

    public Task<ResourceSliceModel> CreateSliceAsync(ResourceSliceModel slice, CancellationToken cancellationToken) =>
        CallAsync(
            async (version, ct) =>
            {
                var created = await _client.CreateAsync(KubeResource.ResourceSlices(version.ToWire()), null, ResourceSliceConverter.ToJson(slice, version), ct).ConfigureAwait(false);
                return ResourceSliceConverter.FromJson(created);
            },
            retryWhenNull: false,
            cancellationToken)!;

    public Task<ResourceSliceModel> UpdateSliceAsync(ResourceSliceModel slice, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(slice);
        if (string.IsNullOrEmpty(slice.Name))
        {
            throw new ArgumentException("an update needs the slice's name", nameof(slice));
        }

        return CallAsync(
            async (version, ct) =>
            {
                var updated = await _client.UpdateAsync(KubeResource.ResourceSlices(version.ToWire()), null, slice.Name, ResourceSliceConverter.ToJson(slice, version), ct).ConfigureAwait(false);
                return ResourceSliceConverter.FromJson(updated);
            },
            retryWhenNull: false,
            cancellationToken)!;
    }

    public Task DeleteSliceAsync(string name, CancellationToken cancellationToken) =>
        CallAsync<object>(
            async (version, ct) =>
            {
                await _client.DeleteAsync(KubeResource.ResourceSlices(version.ToWire()), null, name, ct).ConfigureAwait(false);
                return true;
            },
            retryWhenNull: false,
            cancellationToken);

    /// <summary>Runs <paramref name="call"/> in the negotiated version; on a 404 (or a null GET) whose cause is the version being gone, negotiates again and retries once.</summary>
    private async Task<T?> CallAsync<T>(Func<ResourceApiVersion, CancellationToken, Task<T?>> call, bool retryWhenNull, CancellationToken cancellationToken)
        where T : class
    {
        var version = _version?.Value ?? await NegotiateAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var result = await call(version, cancellationToken).ConfigureAwait(false);
            if (result is not null || !retryWhenNull || !await VersionGoneAsync(version, cancellationToken).ConfigureAwait(false))
            {
                return result;
            }
        }
        catch (KubeApiException ex) when (ex.IsNotFound)
        {
            if (!await VersionGoneAsync(version, cancellationToken).ConfigureAwait(false))
            {
                throw;
            }
        }

        var renegotiated = await NegotiateAsync(cancellationToken).ConfigureAwait(false);
        return await call(renegotiated, cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> VersionGoneAsync(ResourceApiVersion version, CancellationToken cancellationToken)
    {
        var served = await ResourceApiDiscovery.ReadServedVersionsAsync(_client, cancellationToken).ConfigureAwait(false);
        var gone = !served.Contains(version.ToWire(), StringComparer.Ordinal);
        if (gone)
        {
            LogVersionGone(_logger, version.ToWire(), string.Join(",", served));
        }

        return gone;
    }

    public void Dispose() => _negotiation.Dispose();

    /// <summary>Boxed so the field can be volatile and null before negotiation.</summary>
    private sealed record StrongBox(ResourceApiVersion Value);
}
