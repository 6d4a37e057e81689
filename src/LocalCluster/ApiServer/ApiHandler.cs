using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// Routes a request to the endpoint that serves it (control, non-resource, CRUD, patch, watch), after fault
/// injection had its chance, and turns every failure into a Status body; each request is recorded in the
/// <see cref="RequestLog"/> once.
/// </summary>
public sealed class ApiHandler
{
    private readonly ResourceCatalog _catalog;
    private readonly RequestLog _log;
    private readonly TimeProvider _time;
    private readonly CancellationToken _stopping;
    private readonly ControlEndpoints _control;
    private readonly FaultEndpoints _faults;
    private readonly NonResourceEndpoints _nonResource;
    private readonly CrudEndpoints _crud;
    private readonly PatchEndpoint _patch;
    private readonly WatchStreamer _watch;
    private readonly TableConverter _tables;

    public ApiHandler(ResourceCatalog catalog, ObjectStore store, ObjectRules rules, RequestLog log, FaultInjector faults, TimeProvider time, int maxBodyBytes, TimeSpan bookmarkInterval, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        _catalog = catalog;
        _log = log;
        _time = time;
        _stopping = stopping;
        var writer = new ObjectWriter(catalog, store, rules, maxBodyBytes);
        _faults = new FaultEndpoints(faults, time, maxBodyBytes, stopping);
        _control = new ControlEndpoints(log, _faults);
        _nonResource = new NonResourceEndpoints(catalog);
        _tables = new TableConverter(time);
        _crud = new CrudEndpoints(store, writer, _tables);
        _patch = new PatchEndpoint(store, writer);
        _watch = new WatchStreamer(store, time, bookmarkInterval, stopping);
    }

    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        if (path.StartsWith(ControlEndpoints.Prefix, StringComparison.Ordinal))
        {
            await _control.HandleAsync(context, path).ConfigureAwait(false);
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
            var faulted = await _faults.TryAnswerAsync(context, path, (status, name) => { faultName = name; Log(status); }, ct).ConfigureAwait(false);
            if (!faulted)
            {
                await DispatchAsync(context, path, info, Log, ct).ConfigureAwait(false);
                Log(context.Response.StatusCode);
            }
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
            await _nonResource.HandleAsync(context, path, info, ct).ConfigureAwait(false);
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

        var watch = info.LegacyWatchPath || IsTrue(request.Query["watch"]);
        var ns = info.Namespace;
        // kubectl get --watch asks for Tables: each event then carries a one-row Table, as the real server sends.
        Func<JsonObject, JsonObject>? render = TableConverter.Requested(request) is { } tableVersion
            ? obj => _tables.ToTable(type, tableVersion, [obj], null, request)
            : null;
        if (info.Name is not { } name)
        {
            var collection = request.Method switch
            {
                "GET" when watch => _watch.ServeAsync(context, type, version, ns, log, ct, render: render),
                "GET" => _crud.ListAsync(context, type, version, ns, ct),
                "POST" => _crud.CreateAsync(context, type, version, ns, ct),
                "DELETE" => _crud.DeleteCollectionAsync(context, type, version, ns, ct),
                _ => throw ApiError.MethodNotAllowed($"the server does not allow this method on the requested resource"),
            };
            await collection.ConfigureAwait(false);
            return;
        }

        var item = request.Method switch
        {
            "GET" when watch => _watch.ServeAsync(context, type, version, ns, log, ct, name, render),
            "GET" => _crud.GetAsync(context, type, version, ns, name, ct),
            "PUT" => _crud.UpdateAsync(context, type, version, ns, name, info.Subresource, ct),
            "PATCH" => _patch.PatchAsync(context, type, version, ns, name, info.Subresource, ct),
            "DELETE" when info.Subresource is null => _crud.DeleteAsync(context, type, version, ns, name, ct),
            _ => throw ApiError.MethodNotAllowed($"the server does not allow this method on the requested resource"),
        };
        await item.ConfigureAwait(false);
    }

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
}
