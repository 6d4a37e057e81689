using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SecureDra.LocalCluster.ApiServer.Json;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// Serves the Kubernetes REST surface: discovery, the generic CRUD verbs on every catalogued resource, watch,
/// the /status subresource, Status error bodies; plus the test hooks under /_securedra.
/// </summary>
public sealed class ApiHandler
{
    private readonly ResourceCatalog _catalog;
    private readonly ObjectStore _store;
    private readonly ObjectRules _rules;
    private readonly DraSchemas _schemas;
    private readonly Discovery _discovery;
    private readonly OpenApiDocuments _openApi;
    private readonly RequestLog _log;
    private readonly FaultInjector _faults;
    private readonly WatchStreamer _watch;
    private readonly TimeProvider _time;
    private readonly int _maxBodyBytes;
    private readonly CancellationToken _stopping;

    public ApiHandler(ResourceCatalog catalog, ObjectStore store, ObjectRules rules, RequestLog log, FaultInjector faults, TimeProvider time, int maxBodyBytes, TimeSpan bookmarkInterval, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        _catalog = catalog;
        _store = store;
        _rules = rules;
        _schemas = new DraSchemas(catalog.Profile);
        _discovery = new Discovery(catalog);
        _openApi = new OpenApiDocuments(catalog);
        _log = log;
        _faults = faults;
        _time = time;
        _maxBodyBytes = maxBodyBytes;
        _stopping = stopping;
        _watch = new WatchStreamer(store, time, bookmarkInterval, stopping);
    }

    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        if (path.StartsWith("/_securedra/", StringComparison.Ordinal))
        {
            await HandleControlAsync(context, path).ConfigureAwait(false);
            return;
        }

        var info = RequestInfo.Parse(path, (g, v, plural) => _catalog.Find(g, v, plural)?.Namespaced);
        var sequence = _log.NextSequence();
        var started = _time.GetUtcNow();
        var verb = VerbOf(request, info);
        string? faultName = null;
        var logged = false;
        void Log(int status)
        {
            if (!logged)
            {
                logged = true;
                _log.Add(new RequestLogEntry(sequence, started, request.Method, path, request.QueryString.Value ?? string.Empty,
                    info.Group, info.Version, info.Plural, info.Namespace, info.Name, info.Subresource, verb, status, faultName,
                    request.Headers.UserAgent.ToString()));
            }
        }

        var ct = context.RequestAborted;
        try
        {
            if (_faults.TryTake(request.Method, path) is { } fault)
            {
                faultName = fault.Hang ? "hang" : fault.Status.ToString(CultureInfo.InvariantCulture);
                if (fault.Hang)
                {
                    Log(0);
                    using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _stopping);
                    try
                    {
                        await Task.Delay(Timeout.InfiniteTimeSpan, _time, linked.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }

                    context.Abort();
                    return;
                }

                var retry = fault.Status is 429 or 503 ? fault.RetryAfterSeconds : (int?)null;
                if (retry is { } seconds)
                {
                    context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                }

                var (reason, message) = fault.Status switch
                {
                    429 => ("TooManyRequests", "Too many requests, please try again later."),
                    503 => ("ServiceUnavailable", "The server is currently unable to handle the request"),
                    500 => ("InternalError", "Internal error occurred: injected fault"),
                    504 => ("Timeout", "The server was unable to return a response in the time allotted"),
                    409 => ("Conflict", "Operation cannot be fulfilled: injected conflict; please apply your changes to the latest version and try again"),
                    _ => ("InternalError", $"injected fault {fault.Status}"),
                };
                var error = new ApiError(fault.Status, reason, message, retryAfterSeconds: retry);
                Log(fault.Status);
                await JsonIo.WriteAsync(context.Response, fault.Status, error.ToStatus(), ct).ConfigureAwait(false);
                return;
            }

            await DispatchAsync(context, path, info, Log, ct).ConfigureAwait(false);
            Log(context.Response.StatusCode);
        }
        catch (ApiError error)
        {
            Log(error.Code);
            if (!context.Response.HasStarted)
            {
                if (error.RetryAfterSeconds is { } seconds)
                {
                    context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                }

                await JsonIo.WriteAsync(context.Response, error.Code, error.ToStatus(), ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested || _stopping.IsCancellationRequested)
        {
            Log(499);
        }
#pragma warning disable CA1031 // Any bug must still answer with a Status body, never a bare 500.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log(500);
            if (!context.Response.HasStarted)
            {
                var error = new ApiError(500, "InternalError", $"Internal error occurred: {e.GetType().Name}: {e.Message}");
                await JsonIo.WriteAsync(context.Response, 500, error.ToStatus(), ct).ConfigureAwait(false);
            }
        }
    }

    private async Task DispatchAsync(HttpContext context, string path, RequestInfo info, Action<int> log, CancellationToken ct)
    {
        var request = context.Request;
        if (!info.IsResourceRequest)
        {
            if (request.Method != HttpMethods.Get && request.Method != HttpMethods.Head)
            {
                throw ApiError.MethodNotAllowed($"the server does not allow this method on the requested resource");
            }

            if (path.TrimEnd('/') is "/healthz" or "/readyz" or "/livez")
            {
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync("ok", ct).ConfigureAwait(false);
                return;
            }

            var doc = NonResource(path, info);
            if (doc is null)
            {
                throw new ApiError(404, "NotFound", "the server could not find the requested resource");
            }

            await JsonIo.WriteAsync(context.Response, 200, doc, ct).ConfigureAwait(false);
            return;
        }

        var type = _catalog.Find(info.Group!, info.Version!, info.Plural!)
            ?? throw new ApiError(404, "NotFound", "the server could not find the requested resource");
        var version = info.Version!;
        if (type.Namespaced && info.Namespace is null && info.Name is not null)
        {
            throw new ApiError(404, "NotFound", "the server could not find the requested resource");
        }

        if (info.Subresource is not null && !(info.Subresource == "status" && type.HasStatusSubresource))
        {
            throw new ApiError(404, "NotFound", "the server could not find the requested resource");
        }

        var query = request.Query;
        if (info.Name is null)
        {
            switch (request.Method)
            {
                case "GET":
                    if (info.LegacyWatchPath || IsTrue(query["watch"]))
                    {
                        await _watch.ServeAsync(context, type, version, info.Namespace, log, ct).ConfigureAwait(false);
                        return;
                    }

                    await ListAsync(context, type, version, info.Namespace, ct).ConfigureAwait(false);
                    return;
                case "POST":
                    await CreateAsync(context, type, version, info.Namespace, ct).ConfigureAwait(false);
                    return;
                case "DELETE":
                    await DeleteCollectionAsync(context, type, version, info.Namespace, ct).ConfigureAwait(false);
                    return;
                default:
                    throw ApiError.MethodNotAllowed($"the server does not allow this method on the requested resource");
            }
        }

        var name = info.Name;
        switch (request.Method)
        {
            case "GET":
                if (info.LegacyWatchPath || IsTrue(query["watch"]))
                {
                    await _watch.ServeAsync(context, type, version, info.Namespace, log, ct, name).ConfigureAwait(false);
                    return;
                }

                var obj = _store.Get(type, info.Namespace, name) ?? throw ApiError.NotFound(type, name);
                await JsonIo.WriteAsync(context.Response, 200, DraShapeConverter.FromStorage(type, version, obj), ct).ConfigureAwait(false);
                return;
            case "PUT":
                await UpdateAsync(context, type, version, info.Namespace, name, info.Subresource, ct).ConfigureAwait(false);
                return;
            case "PATCH":
                await PatchAsync(context, type, version, info.Namespace, name, info.Subresource, ct).ConfigureAwait(false);
                return;
            case "DELETE" when info.Subresource is null:
                await DeleteAsync(context, type, version, info.Namespace, name, ct).ConfigureAwait(false);
                return;
            default:
                throw ApiError.MethodNotAllowed($"the server does not allow this method on the requested resource");
        }
    }

    private JsonObject? NonResource(string path, RequestInfo info)
    {
        var trimmed = path.TrimEnd('/');
        switch (trimmed)
        {
            case "/version":
                return _discovery.Version();
            case "/api":
                return Discovery.CoreVersions();
            case "/apis":
                return _discovery.GroupList();
            case "/openapi/v3":
                return _openApi.Index();
        }

        if (trimmed.StartsWith("/openapi/v3/", StringComparison.Ordinal))
        {
            return _openApi.GroupVersion(trimmed["/openapi/v3/".Length..]);
        }

        if (info.Group is not null && info.Version is not null)
        {
            return _discovery.ResourceList(info.Group, info.Version);
        }

        var segments = trimmed.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 2 && segments[0] == "apis")
        {
            return _discovery.GroupDocument(segments[1]);
        }

        return null;
    }

    private async Task ListAsync(HttpContext context, ResourceType type, string version, string? ns, CancellationToken ct)
    {
        var labels = LabelSelector.Parse(context.Request.Query["labelSelector"]);
        var fields = FieldSelector.Parse(context.Request.Query["fieldSelector"], type);
        var (items, rv) = _store.List(type, ns);
        var array = new JsonArray();
        foreach (var item in items.Where(i => labels.Matches(i) && fields.Matches(i)))
        {
            array.Add((JsonNode)DraShapeConverter.FromStorage(type, version, item));
        }

        var list = new JsonObject
        {
            ["kind"] = type.Kind + "List",
            ["apiVersion"] = type.ApiVersion(version),
            ["metadata"] = new JsonObject { ["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture) },
            ["items"] = array,
        };
        await JsonIo.WriteAsync(context.Response, 200, list, ct).ConfigureAwait(false);
    }

    private async Task CreateAsync(HttpContext context, ResourceType type, string version, string? ns, CancellationToken ct)
    {
        var body = await ReadObjectAsync(context, type, version, ct).ConfigureAwait(false);
        var created = CreateObject(type, version, ns, body, IsDryRun(context));
        await JsonIo.WriteAsync(context.Response, 201, DraShapeConverter.FromStorage(type, version, created), ct).ConfigureAwait(false);
    }

    private JsonObject CreateObject(ResourceType type, string version, string? ns, JsonObject body, bool dryRun)
    {
        CheckNamespace(type, ns, body);
        var stored = DraShapeConverter.ToStorage(type, version, body);
        stored.Remove("apiVersion");
        stored.Remove("kind");
        _rules.PrepareForCreate(type, stored);
        var causes = _rules.Validate(type, version, stored, null);
        if (causes.Count > 0)
        {
            throw ApiError.Invalid(type, JsonFields.Str(stored["metadata"]?["name"]) ?? JsonFields.Str(stored["metadata"]?["generateName"]) ?? string.Empty, causes);
        }

        if (dryRun)
        {
            return stored;
        }

        return _store.Create(type, ns, stored, NamespaceType);
    }

    private ResourceType NamespaceType => _catalog.Find(string.Empty, "v1", "namespaces")!;

    private async Task UpdateAsync(HttpContext context, ResourceType type, string version, string? ns, string name, string? subresource, CancellationToken ct)
    {
        var body = await ReadObjectAsync(context, type, version, ct).ConfigureAwait(false);
        CheckNamespace(type, ns, body);
        var bodyName = JsonFields.Str(body["metadata"]?["name"]);
        if (bodyName is not null && bodyName != name)
        {
            throw ApiError.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
        }

        var stored = DraShapeConverter.ToStorage(type, version, body);
        stored.Remove("apiVersion");
        stored.Remove("kind");
        var updated = _store.Replace(type, ns, name, current => Prepare(type, version, current, stored, subresource));
        await JsonIo.WriteAsync(context.Response, 200, DraShapeConverter.FromStorage(type, version, updated), ct).ConfigureAwait(false);
    }

    private JsonObject Prepare(ResourceType type, string version, JsonObject current, JsonObject stored, string? subresource)
    {
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

    private async Task PatchAsync(HttpContext context, ResourceType type, string version, string? ns, string name, string? subresource, CancellationToken ct)
    {
        var contentType = (context.Request.ContentType ?? string.Empty).Split(';')[0].Trim();
        var patch = await JsonIo.ReadBodyAsync(context.Request, _maxBodyBytes, ct).ConfigureAwait(false)
            ?? throw ApiError.BadRequest("the body of the request was empty");
        var isApply = contentType == "application/apply-patch+yaml";
        if (contentType is not ("application/merge-patch+json" or "application/strategic-merge-patch+json" or "application/json-patch+json" or "application/apply-patch+yaml"))
        {
            throw new ApiError(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json");
        }

        if (isApply && _store.Get(type, ns, name) is null && subresource is null)
        {
            if (patch is not JsonObject applyBody)
            {
                throw ApiError.BadRequest("an apply patch must be an object");
            }

            CheckStrict(type, version, applyBody);
            applyBody["metadata"] ??= new JsonObject();
            applyBody["metadata"]!["name"] ??= name;
            var created = CreateObject(type, version, ns, applyBody, IsDryRun(context));
            await JsonIo.WriteAsync(context.Response, 201, DraShapeConverter.FromStorage(type, version, created), ct).ConfigureAwait(false);
            return;
        }

        var updated = _store.Replace(type, ns, name, current =>
        {
            var wire = DraShapeConverter.FromStorage(type, version, current);
            JsonNode? patched = contentType == "application/json-patch+json"
                ? Patches.JsonPatch(wire, patch as JsonArray ?? throw ApiError.BadRequest("a json patch must be an array of operations"))
                : Patches.MergePatch(wire, patch);
            if (patched is not JsonObject patchedObject)
            {
                throw ApiError.BadRequest("the patch did not produce an object");
            }

            CheckStrict(type, version, patchedObject);
            // Only a resourceVersion the patch itself sets is a precondition.
            var patchedRv = patch is JsonObject mergePatch
                ? JsonFields.Str(mergePatch["metadata"]?["resourceVersion"])
                : JsonFields.Str(patchedObject["metadata"]?["resourceVersion"]) is { } rv && rv != JsonFields.Str(current["metadata"]?["resourceVersion"]) ? rv : null;
            var stored = DraShapeConverter.ToStorage(type, version, patchedObject);
            stored.Remove("apiVersion");
            stored.Remove("kind");
            if (patchedRv is null)
            {
                stored["metadata"]!["resourceVersion"] = current["metadata"]?["resourceVersion"]?.DeepClone();
            }

            return Prepare(type, version, current, stored, subresource);
        });
        await JsonIo.WriteAsync(context.Response, 200, DraShapeConverter.FromStorage(type, version, updated), ct).ConfigureAwait(false);
    }

    private async Task DeleteAsync(HttpContext context, ResourceType type, string version, string? ns, string name, CancellationToken ct)
    {
        var options = await JsonIo.ReadBodyAsync(context.Request, _maxBodyBytes, ct).ConfigureAwait(false) as JsonObject;
        var preconditions = options?["preconditions"] as JsonObject;
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
        });
        await JsonIo.WriteAsync(context.Response, 200, DraShapeConverter.FromStorage(type, version, deleted), ct).ConfigureAwait(false);
    }

    private async Task DeleteCollectionAsync(HttpContext context, ResourceType type, string version, string? ns, CancellationToken ct)
    {
        var labels = LabelSelector.Parse(context.Request.Query["labelSelector"]);
        var fields = FieldSelector.Parse(context.Request.Query["fieldSelector"], type);
        var deleted = _store.DeleteCollection(type, ns, o => labels.Matches(o) && fields.Matches(o));
        var items = new JsonArray();
        foreach (var item in deleted)
        {
            items.Add((JsonNode)DraShapeConverter.FromStorage(type, version, item));
        }

        var list = new JsonObject
        {
            ["kind"] = type.Kind + "List",
            ["apiVersion"] = type.ApiVersion(version),
            ["metadata"] = new JsonObject { ["resourceVersion"] = _store.ResourceVersion.ToString(CultureInfo.InvariantCulture) },
            ["items"] = items,
        };
        await JsonIo.WriteAsync(context.Response, 200, list, ct).ConfigureAwait(false);
    }

    private async Task<JsonObject> ReadObjectAsync(HttpContext context, ResourceType type, string version, CancellationToken ct)
    {
        var contentType = (context.Request.ContentType ?? "application/json").Split(';')[0].Trim();
        if (contentType is not ("application/json" or ""))
        {
            throw new ApiError(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json");
        }

        var node = await JsonIo.ReadBodyAsync(context.Request, _maxBodyBytes, ct).ConfigureAwait(false);
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
    private void CheckStrict(ResourceType type, string version, JsonObject body)
    {
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

    private static void CheckNamespace(ResourceType type, string? ns, JsonObject body)
    {
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

    private static bool IsDryRun(HttpContext context) => context.Request.Query["dryRun"].ToString() == "All";

    private static bool IsTrue(Microsoft.Extensions.Primitives.StringValues value) =>
        value.ToString() is "true" or "1" or "True";

    private static string VerbOf(HttpRequest request, RequestInfo info)
    {
        if (!info.IsResourceRequest)
        {
            return request.Method.ToLowerInvariant();
        }

        var watch = info.LegacyWatchPath || IsTrue(request.Query["watch"]);
        return request.Method switch
        {
            "GET" when watch => "watch",
            "GET" => info.Name is null ? "list" : "get",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => info.Name is null ? "deletecollection" : "delete",
            _ => request.Method.ToLowerInvariant(),
        };
    }

    private async Task HandleControlAsync(HttpContext context, string path)
    {
        var ct = context.RequestAborted;
        try
        {
            switch (path, context.Request.Method)
            {
                case ("/_securedra/requests", "GET"):
                    var prefix = context.Request.Query["pathPrefix"].ToString();
                    var items = new JsonArray();
                    foreach (var entry in _log.Entries.Where(e => prefix.Length == 0 || e.Path.StartsWith(prefix, StringComparison.Ordinal)))
                    {
                        items.Add((JsonNode)RequestLog.ToJson(entry));
                    }

                    await JsonIo.WriteAsync(context.Response, 200, new JsonObject { ["items"] = items }, ct).ConfigureAwait(false);
                    return;
                case ("/_securedra/requests", "DELETE"):
                    _log.Clear();
                    await JsonIo.WriteAsync(context.Response, 200, new JsonObject { ["cleared"] = true }, ct).ConfigureAwait(false);
                    return;
                case ("/_securedra/faults", "POST") when _faults.EndpointEnabled:
                    var body = await JsonIo.ReadBodyAsync(context.Request, _maxBodyBytes, ct).ConfigureAwait(false) as JsonObject
                        ?? throw ApiError.BadRequest("a fault rule must be a JSON object");
                    try
                    {
                        _faults.Add(FaultInjector.Parse(body));
                    }
                    catch (ArgumentException e)
                    {
                        throw ApiError.BadRequest(e.Message);
                    }

                    await WriteFaultsAsync(context, 201, ct).ConfigureAwait(false);
                    return;
                case ("/_securedra/faults", "GET") when _faults.EndpointEnabled:
                    await WriteFaultsAsync(context, 200, ct).ConfigureAwait(false);
                    return;
                case ("/_securedra/faults", "DELETE") when _faults.EndpointEnabled:
                    _faults.Clear();
                    await WriteFaultsAsync(context, 200, ct).ConfigureAwait(false);
                    return;
                default:
                    throw new ApiError(404, "NotFound", "the server could not find the requested resource");
            }
        }
        catch (ApiError error)
        {
            await JsonIo.WriteAsync(context.Response, error.Code, error.ToStatus(), ct).ConfigureAwait(false);
        }
    }

    private async Task WriteFaultsAsync(HttpContext context, int status, CancellationToken ct)
    {
        var items = new JsonArray();
        foreach (var (rule, remaining) in _faults.Pending)
        {
            items.Add((JsonNode)FaultInjector.ToJson(rule, remaining));
        }

        await JsonIo.WriteAsync(context.Response, status, new JsonObject { ["items"] = items }, ct).ConfigureAwait(false);
    }
}
