using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// The local server's own endpoints under /_securedra (no Kubernetes API has them): the request log, and the fault
/// rules through <see cref="FaultEndpoints"/>. Failures answer with a Status body like the API does.
/// </summary>
public sealed class ControlEndpoints
{
    public const string Prefix = "/_securedra/";

    private readonly RequestLog _log;
    private readonly FaultEndpoints _faults;

    public ControlEndpoints(RequestLog log, FaultEndpoints faults)
    {
        _log = log;
        _faults = faults;
    }

    public async Task HandleAsync(HttpContext context, string path)
    {
        ArgumentNullException.ThrowIfNull(context);
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
                case (FaultEndpoints.Path, _):
                    await _faults.HandleControlAsync(context, ct).ConfigureAwait(false);
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
}
