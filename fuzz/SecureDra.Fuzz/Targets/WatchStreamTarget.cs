using System.Net;
using SecureDra.Fuzz.Oracles;
using SecureDra.Kube.Client;
using SecureDra.Kube.Resources;

namespace SecureDra.Fuzz.Targets;

/// <summary>
/// The watch path end to end from the response body on: <see cref="KubeApiClient.WatchAsync"/> of ResourceSlices (its
/// line reader and event parser) with each object read by <see cref="ResourceSliceConverter"/>, with the input as the
/// body of the watch response. Only the HTTP transport is replaced, by a handler that answers discovery with v1 and the watch
/// with the input (trickled, so line splitting across reads is exercised). Documented: a bad event is a
/// <see cref="KubeApiException"/> (bad line, not JSON, no type or object) or a <see cref="KubeObjectFormatException"/>
/// (a slice of the wrong shape). Oracle: each ADDED/MODIFIED/DELETED event carries a slice keeping <see cref="KubeModelFacts"/>.
/// </summary>
public sealed class WatchStreamTarget : IFuzzTarget, IDisposable
{
    private readonly BodyHandler _handler = new();
    private readonly HttpClient _http;
    private readonly KubeApiClient _client;

    public WatchStreamTarget()
    {
        _http = new HttpClient(_handler);
        _client = new KubeApiClient(_http, new Uri("http://127.0.0.1:1"), new KubeApiClientOptions { MaxWatchLineBytes = 64 * 1024 });
    }

    public string Name => "watch-stream";

    public int MaxInputBytes => 70 * 1024;

    public FuzzVerdict Run(ReadOnlySpan<byte> input)
    {
        _handler.Body = input.ToArray();
        try
        {
            return WatchAsync().GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is KubeApiException or KubeObjectFormatException)
        {
            return FuzzVerdict.Rejected;
        }
        catch (FuzzFindingException)
        {
            throw;
        }
        catch (Exception ex)
        {
            throw FuzzFindingException.Escaped(Name, ex);
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _http.Dispose();
        _handler.Dispose();
    }

    private async Task<FuzzVerdict> WatchAsync()
    {
        var options = new KubeListOptions(FieldSelector: $"spec.driver={OpaqueConfigs.Driver},spec.nodeName=node-1") { ResourceVersion = "1" };
        await foreach (var evt in _client.WatchAsync(KubeResource.ResourceSlices("v1"), null, options, CancellationToken.None).ConfigureAwait(false))
        {
            if (evt.Type is "ADDED" or "MODIFIED" or "DELETED")
            {
                evt.Object.TryAdd("apiVersion", "resource.k8s.io/v1"); // as the API server's watch of one version implies
                var violation = KubeModelFacts.SliceViolation(ResourceSliceConverter.FromJson(evt.Object));
                if (violation is not null)
                {
                    throw FuzzFindingException.WrongAccept(Name, violation);
                }
            }
        }

        return FuzzVerdict.Accepted;
    }

    /// <summary>Discovery answers resource.k8s.io/v1; every other request gets the current input as a 200 body.</summary>
    private sealed class BodyHandler : HttpMessageHandler
    {
        private static readonly byte[] Discovery = """{"kind":"APIGroup","name":"resource.k8s.io","versions":[{"groupVersion":"resource.k8s.io/v1","version":"v1"}]}"""u8.ToArray();

        public byte[] Body { get; set; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.RequestUri?.AbsolutePath == ResourceApiDiscovery.Path ? Discovery : Body;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new TrickleStream(body, maxChunk: 997)) });
        }
    }
}
