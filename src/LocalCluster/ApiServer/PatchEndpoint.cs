using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SecureDra.LocalCluster.ApiServer.Json;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// PATCH on a resource or its /status: JSON patch, merge patch (which also serves strategic merge, see
/// <see cref="Patches"/>) and apply patches, an apply of a missing object creating it. Honours dryRun=All.
/// </summary>
public sealed class PatchEndpoint
{
    private const string AcceptedMediaTypes = "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json";

    private readonly ObjectStore _store;
    private readonly ObjectWriter _writer;

    public PatchEndpoint(ObjectStore store, ObjectWriter writer)
    {
        _store = store;
        _writer = writer;
    }

    public async Task PatchAsync(HttpContext context, ResourceType type, string version, string? ns, string name, string? subresource, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var contentType = (context.Request.ContentType ?? string.Empty).Split(';')[0].Trim();
        var patch = await JsonIo.ReadBodyAsync(context.Request, _writer.MaxBodyBytes, ct).ConfigureAwait(false)
            ?? throw ApiError.BadRequest("the body of the request was empty");
        var isApply = contentType == "application/apply-patch+yaml";
        if (contentType is not ("application/merge-patch+json" or "application/strategic-merge-patch+json" or "application/json-patch+json" or "application/apply-patch+yaml"))
        {
            throw new ApiError(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: {AcceptedMediaTypes}");
        }

        var dryRun = ObjectWriter.IsDryRun(context);
        if (isApply && _store.Get(type, ns, name) is null && subresource is null)
        {
            if (patch is not JsonObject applyBody)
            {
                throw ApiError.BadRequest("an apply patch must be an object");
            }

            _writer.CheckStrict(type, version, applyBody);
            applyBody["metadata"] ??= new JsonObject();
            applyBody["metadata"]!["name"] ??= name;
            var created = _writer.Create(type, version, ns, applyBody, dryRun);
            await JsonIo.WriteAsync(context.Response, 201, DraShapeConverter.FromStorage(type, version, created), ct).ConfigureAwait(false);
            return;
        }

        var updated = _store.Replace(type, ns, name, current => Apply(type, version, current, patch, contentType, subresource), dryRun);
        await JsonIo.WriteAsync(context.Response, 200, DraShapeConverter.FromStorage(type, version, updated), ct).ConfigureAwait(false);
    }

    private JsonObject Apply(ResourceType type, string version, JsonObject current, JsonNode patch, string contentType, string? subresource)
    {
        var wire = DraShapeConverter.FromStorage(type, version, current);
        JsonNode? patched = contentType == "application/json-patch+json"
            ? Patches.JsonPatch(wire, patch as JsonArray ?? throw ApiError.BadRequest("a json patch must be an array of operations"))
            : Patches.MergePatch(wire, patch);
        if (patched is not JsonObject patchedObject)
        {
            throw ApiError.BadRequest("the patch did not produce an object");
        }

        _writer.CheckStrict(type, version, patchedObject);
        // Only a resourceVersion the patch itself sets is a precondition.
        var patchedRv = patch is JsonObject mergePatch
            ? JsonFields.Str(mergePatch["metadata"]?["resourceVersion"])
            : JsonFields.Str(patchedObject["metadata"]?["resourceVersion"]) is { } rv && rv != JsonFields.Str(current["metadata"]?["resourceVersion"]) ? rv : null;
        var stored = ObjectWriter.ToStorage(type, version, patchedObject);
        if (patchedRv is null)
        {
            stored["metadata"]!["resourceVersion"] = current["metadata"]?["resourceVersion"]?.DeepClone();
        }

        return _writer.PrepareUpdate(type, version, current, stored, subresource);
    }
}
