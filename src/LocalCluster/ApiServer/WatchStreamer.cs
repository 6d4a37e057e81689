using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using SecureDra.LocalCluster.ApiServer.Json;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// Streams a watch as newline-delimited JSON events ({"type":…,"object":…}), converting each object to the
/// requested version and applying selectors to both sides of a change (an object leaving the selection is
/// DELETED, one entering it ADDED). A too-old resourceVersion gets an ERROR event carrying a 410 Expired Status,
/// as the real server's watch cache sends it.
/// </summary>
public sealed class WatchStreamer
{
    private readonly ObjectStore _store;
    private readonly CancellationToken _stopping;
    private readonly TimeProvider _time;
    private readonly TimeSpan _bookmarkInterval;

    public WatchStreamer(ObjectStore store, TimeProvider time, TimeSpan bookmarkInterval, CancellationToken stopping)
    {
        _store = store;
        _time = time;
        _bookmarkInterval = bookmarkInterval;
        _stopping = stopping;
    }

    public async Task ServeAsync(HttpContext context, ResourceType type, string version, string? ns, Action<int> log, CancellationToken ct, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(log);
        var query = context.Request.Query;
        var labels = LabelSelector.Parse(query["labelSelector"]);
        var fields = FieldSelector.Parse(query["fieldSelector"], type);
        var bookmarks = query["allowWatchBookmarks"].ToString() is "true" or "1";
        var sendInitial = query["sendInitialEvents"].ToString() is "true" or "1";
        var rvText = query["resourceVersion"].ToString();
        long? from = null;
        if (rvText.Length > 0 && rvText != "0" && !sendInitial)
        {
            if (!long.TryParse(rvText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                throw ApiError.BadRequest($"invalid resource version \"{rvText}\": must be an unsigned integer");
            }

            from = parsed;
        }

        var timeout = int.TryParse(query["timeoutSeconds"], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : Timeout.InfiniteTimeSpan;

        bool Selected(JsonObject obj) =>
            labels.Matches(obj) && fields.Matches(obj) && (name is null || JsonFields.Str(obj["metadata"]?["name"]) == name);

        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-cache, private";

        WatchSubscription subscription;
        try
        {
            subscription = _store.Watch(type, ns, from);
        }
        catch (ApiError gone) when (gone.Code == 410)
        {
            log(200);
            await response.Body.WriteAsync(JsonIo.Line(new JsonObject { ["type"] = "ERROR", ["object"] = gone.ToStatus() }), ct).ConfigureAwait(false);
            return;
        }

        using (subscription)
        {
            log(200);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _stopping);
            if (timeout != Timeout.InfiniteTimeSpan)
            {
                linked.CancelAfter(timeout);
            }

            var token = linked.Token;
            try
            {
                await response.StartAsync(token).ConfigureAwait(false);
                await response.Body.FlushAsync(token).ConfigureAwait(false);
                foreach (var e in subscription.Replay)
                {
                    await WriteEventAsync(response, type, version, e, Selected, token).ConfigureAwait(false);
                }

                if (sendInitial && bookmarks)
                {
                    var bookmark = Bookmark(type, version, subscription.StartResourceVersion);
                    bookmark["object"]!["metadata"]!["annotations"] = new JsonObject { ["k8s.io/initial-events-end"] = "true" };
                    await response.Body.WriteAsync(JsonIo.Line(bookmark), token).ConfigureAwait(false);
                }

                await response.Body.FlushAsync(token).ConfigureAwait(false);
                var reader = subscription.Live;
                var nextBookmark = bookmarks ? _time.GetUtcNow() + _bookmarkInterval : DateTimeOffset.MaxValue;

                // A single-reader channel allows one pending wait: keep it across bookmark ticks.
                Task<bool>? readable = null;
                while (true)
                {
                    while (reader.TryRead(out var e))
                    {
                        await WriteEventAsync(response, type, version, e, Selected, token).ConfigureAwait(false);
                    }

                    if (bookmarks && _time.GetUtcNow() >= nextBookmark)
                    {
                        nextBookmark = _time.GetUtcNow() + _bookmarkInterval;
                        if (_store.QuietResourceVersion(subscription) is { } quiet)
                        {
                            await response.Body.WriteAsync(JsonIo.Line(Bookmark(type, version, quiet)), token).ConfigureAwait(false);
                            await response.Body.FlushAsync(token).ConfigureAwait(false);
                        }
                    }

                    readable ??= reader.WaitToReadAsync(token).AsTask();
                    if (bookmarks)
                    {
                        var wait = nextBookmark - _time.GetUtcNow();
                        using var tick = CancellationTokenSource.CreateLinkedTokenSource(token);
                        var delay = Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, _time, tick.Token);
                        await Task.WhenAny(readable, delay).ConfigureAwait(false);
                        await tick.CancelAsync().ConfigureAwait(false);
                        if (!readable.IsCompleted)
                        {
                            continue;
                        }
                    }

                    var more = await readable.ConfigureAwait(false);
                    readable = null;
                    if (!more)
                    {
                        break;
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Client gone, timeoutSeconds reached or server stopping: the stream simply ends.
            }
        }
    }

    private static JsonObject Bookmark(ResourceType type, string version, long resourceVersion) => new()
    {
        ["type"] = "BOOKMARK",
        ["object"] = new JsonObject
        {
            ["kind"] = type.Kind,
            ["apiVersion"] = type.ApiVersion(version),
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture) },
        },
    };

    private static async Task WriteEventAsync(HttpResponse response, ResourceType type, string version, StoredEvent e, Func<JsonObject, bool> selected, CancellationToken ct)
    {
        var now = selected(e.Object);
        var before = e.Previous is not null && selected(e.Previous);
        var eventType = e.EventType switch
        {
            "MODIFIED" when now && before => "MODIFIED",
            "MODIFIED" when now => "ADDED",
            "MODIFIED" when before => "DELETED",
            "ADDED" when now => "ADDED",
            "DELETED" when before || (e.Previous is null && now) => "DELETED",
            _ => null,
        };
        if (eventType is null)
        {
            return;
        }

        var line = JsonIo.Line(new JsonObject { ["type"] = eventType, ["object"] = DraShapeConverter.FromStorage(type, version, e.Object) });
        await response.Body.WriteAsync(line, ct).ConfigureAwait(false);
        await response.Body.FlushAsync(ct).ConfigureAwait(false);
    }
}
