using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SecureDra.LocalCluster.ApiServer.Json;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// What create, update and patch share: reading and checking a request body (media type, apiVersion/kind, strict
/// fields, namespace), and turning a wire object into a stored one through the write strategy and validation.
/// </summary>
public sealed class ObjectWriter
{
    private readonly ResourceCatalog _catalog;
    private readonly ObjectStore _store;
    private readonly ObjectRules _rules;
    private readonly DraSchemas _schemas;

    public ObjectWriter(ResourceCatalog catalog, ObjectStore store, ObjectRules rules, int maxBodyBytes)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        _catalog = catalog;
        _store = store;
        _rules = rules;
        _schemas = new DraSchemas(catalog.Profile);
        MaxBodyBytes = maxBodyBytes;
    }

    public int MaxBodyBytes { get; }

    /// <summary>dryRun=All: every check and every answer as for a real write, nothing stored (the real server's server-side dry run).</summary>
    public static bool IsDryRun(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Request.Query["dryRun"].ToString() == "All";
    }

    public async Task<JsonObject> ReadObjectAsync(HttpContext context, ResourceType type, string version, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(type);
        var contentType = (context.Request.ContentType ?? "application/json").Split(';')[0].Trim();
        if (contentType is not ("application/json" or ""))
        {
            throw new ApiError(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json");
        }

        var node = await JsonIo.ReadBodyAsync(context.Request, MaxBodyBytes, ct).ConfigureAwait(false);
        if (node is not JsonObject body)
        {
            throw ApiError.BadRequest($"{type.Kind} in version \"{version}\" cannot be handled as a {type.Kind}: the request body must be a JSON object");
        }

        var apiVersion = JsonFields.Str(body["apiVersion"]);
        var kind = JsonFields.Str(body["kind"]);
        if (apiVersion is not null && apiVersion != type.ApiVersion(version))
        {
            throw ApiError.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({type.ApiVersion(version)})");
        }

        if (kind is not null && kind != type.Kind)
        {
            throw ApiError.BadRequest($"the kind in the data ({kind}) does not match the expected kind ({type.Kind})");
        }

        CheckStrict(type, version, body);
        return body;
    }

    /// <summary>Strict field validation: unknown fields in a resource.k8s.io body are a 400, named by path.</summary>
    public void CheckStrict(ResourceType type, string version, JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(type);
        var schema = _schemas.For(type.Plural, version);
        if (!type.IsResourceApi || schema is null)
        {
            return;
        }

        var unknown = new List<string>();
        schema.FindUnknown(body, string.Empty, unknown);
        if (unknown.Count > 0)
        {
            throw ApiError.BadRequest($"{type.Kind} in version \"{version}\" cannot be handled as a {type.Kind}: strict decoding error: {string.Join(", ", unknown.Select(u => $"unknown field \"{u}\""))}");
        }
    }

    public static void CheckNamespace(ResourceType type, string? ns, JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(body);
        var bodyNs = JsonFields.Str(body["metadata"]?["namespace"]);
        if (!type.Namespaced)
        {
            body["metadata"]?.AsObject().Remove("namespace");
            return;
        }

        if (!string.IsNullOrEmpty(bodyNs) && bodyNs != ns)
        {
            throw ApiError.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }
    }

    /// <summary>Wire object to stored shape, without the type fields the storage does not keep.</summary>
    public static JsonObject ToStorage(ResourceType type, string version, JsonObject wire)
    {
        var stored = DraShapeConverter.ToStorage(type, version, wire);
        stored.Remove("apiVersion");
        stored.Remove("kind");
        return stored;
    }

    /// <summary>Create (or, with <paramref name="dryRun"/>, everything a create checks, AlreadyExists included, without storing).</summary>
    public JsonObject Create(ResourceType type, string version, string? ns, JsonObject body, bool dryRun)
    {
        ArgumentNullException.ThrowIfNull(type);
        CheckNamespace(type, ns, body);
        var stored = ToStorage(type, version, body);
        _rules.PrepareForCreate(type, stored);
        var causes = _rules.Validate(type, version, stored, null);
        if (causes.Count > 0)
        {
            throw ApiError.Invalid(type, JsonFields.Str(stored["metadata"]?["name"]) ?? JsonFields.Str(stored["metadata"]?["generateName"]) ?? string.Empty, causes);
        }

        return _store.Create(type, ns, stored, NamespaceType, dryRun);
    }

    /// <summary>
    /// The object to store for an update of <paramref name="current"/> to <paramref name="stored"/>: a resourceVersion
    /// the client sent must match, the write strategy applies, and the result must validate.
    /// </summary>
    public JsonObject PrepareUpdate(ResourceType type, string version, JsonObject current, JsonObject stored, string? subresource)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(stored);
        var requested = JsonFields.Str(stored["metadata"]?["resourceVersion"]);
        var actual = JsonFields.Str(current["metadata"]?["resourceVersion"]);
        var name = JsonFields.Str(current["metadata"]?["name"]) ?? string.Empty;
        if (!string.IsNullOrEmpty(requested) && requested != actual)
        {
            throw ApiError.Conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again");
        }

        var next = _rules.PrepareForUpdate(type, current, stored, subresource);
        next["metadata"]!["resourceVersion"] = actual;
        var causes = _rules.Validate(type, version, next, current);
        if (causes.Count > 0)
        {
            throw ApiError.Invalid(type, name, causes);
        }

        return next;
    }

    private ResourceType NamespaceType => _catalog.Find(string.Empty, "v1", "namespaces")!;
}
