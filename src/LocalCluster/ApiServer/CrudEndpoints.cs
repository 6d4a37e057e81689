using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SecureDra.LocalCluster.ApiServer.Json;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// The generic verbs on a catalogued resource: get and list (as objects or as a server-side Table), create,
/// update (main resource or /status), delete and deletecollection. Each write honours dryRun=All.
/// </summary>
public sealed class CrudEndpoints
{
    private readonly ObjectStore _store;
    private readonly ObjectWriter _writer;
    private readonly TableConverter _tables;

    public CrudEndpoints(ObjectStore store, ObjectWriter writer, TableConverter tables)
    {
        _store = store;
        _writer = writer;
        _tables = tables;
    }

    public async Task GetAsync(HttpContext context, ResourceType type, string version, string? ns, string name, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var obj = _store.Get(type, ns, name) ?? throw ApiError.NotFound(type, name);
        var wire = DraShapeConverter.FromStorage(type, version, obj);
        if (TableConverter.Requested(context.Request) is { } table)
        {
            await JsonIo.WriteAsync(context.Response, 200, _tables.ToTable(type, table, [wire], null, context.Request), ct).ConfigureAwait(false);
            return;
        }

        await JsonIo.WriteAsync(context.Response, 200, wire, ct).ConfigureAwait(false);
    }

    public async Task ListAsync(HttpContext context, ResourceType type, string version, string? ns, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(type);
        var labels = LabelSelector.Parse(context.Request.Query["labelSelector"]);
        var fields = FieldSelector.Parse(context.Request.Query["fieldSelector"], type);
        var (items, rv) = _store.List(type, ns);
        var wire = items.Where(i => labels.Matches(i) && fields.Matches(i)).Select(i => DraShapeConverter.FromStorage(type, version, i)).ToList();
        var resourceVersion = rv.ToString(CultureInfo.InvariantCulture);
        if (TableConverter.Requested(context.Request) is { } table)
        {
            await JsonIo.WriteAsync(context.Response, 200, _tables.ToTable(type, table, wire, resourceVersion, context.Request), ct).ConfigureAwait(false);
            return;
        }

        await JsonIo.WriteAsync(context.Response, 200, List(type, version, resourceVersion, wire), ct).ConfigureAwait(false);
    }

    public async Task CreateAsync(HttpContext context, ResourceType type, string version, string? ns, CancellationToken ct)
    {
        var body = await _writer.ReadObjectAsync(context, type, version, ct).ConfigureAwait(false);
        var created = _writer.Create(type, version, ns, body, ObjectWriter.IsDryRun(context));
        await JsonIo.WriteAsync(context.Response, 201, DraShapeConverter.FromStorage(type, version, created), ct).ConfigureAwait(false);
    }

    public async Task UpdateAsync(HttpContext context, ResourceType type, string version, string? ns, string name, string? subresource, CancellationToken ct)
    {
        var body = await _writer.ReadObjectAsync(context, type, version, ct).ConfigureAwait(false);
        ObjectWriter.CheckNamespace(type, ns, body);
        var bodyName = JsonFields.Str(body["metadata"]?["name"]);
        if (bodyName is not null && bodyName != name)
        {
            throw ApiError.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
        }

        var stored = ObjectWriter.ToStorage(type, version, body);
        var updated = _store.Replace(type, ns, name, current => _writer.PrepareUpdate(type, version, current, stored, subresource), ObjectWriter.IsDryRun(context));
        await JsonIo.WriteAsync(context.Response, 200, DraShapeConverter.FromStorage(type, version, updated), ct).ConfigureAwait(false);
    }

    public async Task DeleteAsync(HttpContext context, ResourceType type, string version, string? ns, string name, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = await JsonIo.ReadBodyAsync(context.Request, _writer.MaxBodyBytes, ct).ConfigureAwait(false) as JsonObject;
        var preconditions = options?["preconditions"] as JsonObject;
        var dryRun = ObjectWriter.IsDryRun(context) || (options?["dryRun"] as JsonArray)?.Any(d => JsonFields.Str(d) == "All") == true;
        var deleted = _store.Delete(type, ns, name, current =>
        {
            var uid = JsonFields.Str(preconditions?["uid"]);
            var actualUid = JsonFields.Str(current["metadata"]?["uid"]);
            if (uid is not null && uid != actualUid)
            {
                throw ApiError.Conflict(type, name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {actualUid}");
            }

            var rv = JsonFields.Str(preconditions?["resourceVersion"]);
            var actualRv = JsonFields.Str(current["metadata"]?["resourceVersion"]);
            if (rv is not null && rv != actualRv)
            {
                throw ApiError.Conflict(type, name, $"Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {actualRv}");
            }
        }, dryRun);
        await JsonIo.WriteAsync(context.Response, 200, DraShapeConverter.FromStorage(type, version, deleted), ct).ConfigureAwait(false);
    }

    public async Task DeleteCollectionAsync(HttpContext context, ResourceType type, string version, string? ns, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var labels = LabelSelector.Parse(context.Request.Query["labelSelector"]);
        var fields = FieldSelector.Parse(context.Request.Query["fieldSelector"], type);
        var deleted = _store.DeleteCollection(type, ns, o => labels.Matches(o) && fields.Matches(o), ObjectWriter.IsDryRun(context));
        var wire = deleted.Select(i => DraShapeConverter.FromStorage(type, version, i)).ToList();
        await JsonIo.WriteAsync(context.Response, 200, List(type, version, _store.ResourceVersion.ToString(CultureInfo.InvariantCulture), wire), ct).ConfigureAwait(false);
    }

    private static JsonObject List(ResourceType type, string version, string resourceVersion, List<JsonObject> items)
    {
        var array = new JsonArray();
        foreach (var item in items)
        {
            array.Add((JsonNode)item);
        }

        return new JsonObject
        {
            ["kind"] = type.Kind + "List",
            ["apiVersion"] = type.ApiVersion(version),
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion },
            ["items"] = array,
        };
    }
}
