using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>GET on the paths that are not resources: health, /version, discovery and the OpenAPI documents.</summary>
public sealed class NonResourceEndpoints
{
    private readonly Discovery _discovery;
    private readonly OpenApiDocuments _openApi;

    public NonResourceEndpoints(ResourceCatalog catalog)
    {
        _discovery = new Discovery(catalog);
        _openApi = new OpenApiDocuments(catalog);
    }

    public async Task HandleAsync(HttpContext context, string path, RequestInfo info, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
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

        var doc = Document(path, info) ?? throw new ApiError(404, "NotFound", "the server could not find the requested resource");
        await JsonIo.WriteAsync(context.Response, 200, doc, ct).ConfigureAwait(false);
    }

    private JsonObject? Document(string path, RequestInfo info)
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
}
