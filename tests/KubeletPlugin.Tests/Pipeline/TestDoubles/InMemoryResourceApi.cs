using System.Globalization;
using System.Net;
using SecureDra.Kube.Client;
using SecureDra.Kube.Resources;

namespace SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

/// <summary>
/// An in-memory resource.k8s.io: claims to read, slices with resourceVersions (stale update =
/// 409), failures on demand, an optional "taints feature gate off" mode that drops taints as a
/// real API server does, and a log of writes.
/// </summary>
public sealed class InMemoryResourceApi : IResourceApi
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ResourceClaimModel> _claims = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ResourceSliceModel> _slices = new(StringComparer.Ordinal);
    private readonly Queue<HttpStatusCode> _failures = new();
    private long _rv;
    private int _names;

    public ResourceApiVersion Version => ResourceApiVersion.V1;

    public bool DropTaints { get; set; }

    /// <summary>Drops sharedCounters and consumesCounters silently, as a server with DRAPartitionableDevices off does.</summary>
    public bool DropCounters { get; set; }

    /// <summary>64 from Kubernetes 1.35; 128 in 1.34.</summary>
    public int MaxDevicesWithTaints { get; set; } = 64;

    /// <summary>Every slice call fails with 503 while set.</summary>
    public bool Down { get; set; }

    public int Creates { get; private set; }
    public int Updates { get; private set; }
    public int Deletes { get; private set; }
    public int Writes => Creates + Updates + Deletes;
    public int ClaimGets { get; private set; }

    /// <summary>LISTs of slices answered (failed ones included).</summary>
    public int SliceLists { get; private set; }

    public Task<ResourceApiVersion> NegotiateAsync(CancellationToken cancellationToken) => Task.FromResult(Version);

    public void PutClaim(ResourceClaimModel claim)
    {
        lock (_lock)
        {
            _claims[claim.Namespace + "/" + claim.Name] = claim;
        }
    }

    public void RemoveClaim(string @namespace, string name)
    {
        lock (_lock)
        {
            _claims.Remove(@namespace + "/" + name);
        }
    }

    public void FailNext(int count, HttpStatusCode status)
    {
        lock (_lock)
        {
            for (var i = 0; i < count; i++)
            {
                _failures.Enqueue(status);
            }
        }
    }

    public IReadOnlyList<ResourceSliceModel> Slices
    {
        get { lock (_lock) { return [.. _slices.Values.OrderBy(s => s.Name, StringComparer.Ordinal)]; } }
    }

    /// <summary>What the kubelet does at start: delete all of the node's slices.</summary>
    public void WipeSlices()
    {
        lock (_lock)
        {
            _slices.Clear();
        }
    }

    /// <summary>Another writer touched a slice: its resourceVersion moves on.</summary>
    public void BumpResourceVersion(string name)
    {
        lock (_lock)
        {
            _slices[name] = _slices[name] with { ResourceVersion = NextRv() };
        }
    }

    public async Task<ResourceClaimModel?> GetClaimAsync(string @namespace, string name, CancellationToken cancellationToken)
    {
        await Task.Yield();
        lock (_lock)
        {
            ClaimGets++;
            return _claims.TryGetValue(@namespace + "/" + name, out var c) ? c : null;
        }
    }

    public async Task<IReadOnlyList<ResourceSliceModel>> ListSlicesAsync(string driver, string nodeName, CancellationToken cancellationToken)
    {
        await Task.Yield();
        lock (_lock)
        {
            SliceLists++;
            Fail();
            return [.. _slices.Values.Where(s => s.Driver == driver && s.NodeName == nodeName)];
        }
    }

    public async Task<ResourceSliceModel> CreateSliceAsync(ResourceSliceModel slice, CancellationToken cancellationToken)
    {
        await Task.Yield();
        lock (_lock)
        {
            Fail();
            Assert.Null(slice.Name);
            Assert.NotNull(slice.GenerateName);
            var stored = Store(slice with { Name = slice.GenerateName + (++_names).ToString(CultureInfo.InvariantCulture), ResourceVersion = NextRv() });
            Creates++;
            return stored;
        }
    }

    public async Task<ResourceSliceModel> UpdateSliceAsync(ResourceSliceModel slice, CancellationToken cancellationToken)
    {
        await Task.Yield();
        lock (_lock)
        {
            Fail();
            if (slice.Name is null || !_slices.TryGetValue(slice.Name, out var current))
            {
                throw new KubeApiException(HttpStatusCode.NotFound, "NotFound", $"resourceslices {slice.Name} not found");
            }

            if (current.ResourceVersion != slice.ResourceVersion)
            {
                throw new KubeApiException(HttpStatusCode.Conflict, "Conflict", "the object has been modified; please apply your changes to the latest version and try again");
            }

            var stored = Store(slice with { ResourceVersion = NextRv() });
            Updates++;
            return stored;
        }
    }

    public async Task DeleteSliceAsync(string name, CancellationToken cancellationToken)
    {
        await Task.Yield();
        lock (_lock)
        {
            Fail();
            _slices.Remove(name);
            Deletes++;
        }
    }

    private ResourceSliceModel Store(ResourceSliceModel slice)
    {
        Assert.True(slice.Devices.Count <= 128, "the API server allows at most 128 devices per slice");
        if (slice.Devices.Any(d => d.Taints.Count > 0))
        {
            Assert.True(slice.Devices.Count <= MaxDevicesWithTaints, $"at most {MaxDevicesWithTaints} devices per slice when devices carry taints");
        }

        if (DropCounters)
        {
            slice = slice with { SharedCounters = null, Devices = [.. slice.Devices.Select(d => d with { ConsumesCounters = null })] };
        }

        if (DropTaints)
        {
            slice = slice with { Devices = [.. slice.Devices.Select(d => d with { Taints = [] })] };
        }

        _slices[slice.Name!] = slice;
        return slice;
    }

    private void Fail()
    {
        if (Down)
        {
            throw new KubeApiException(HttpStatusCode.ServiceUnavailable, "ServiceUnavailable", "injected: API server down");
        }

        if (_failures.TryDequeue(out var status))
        {
            throw new KubeApiException(status, status.ToString(), "injected failure");
        }
    }

    private string NextRv() => (++_rv).ToString(CultureInfo.InvariantCulture);
}
