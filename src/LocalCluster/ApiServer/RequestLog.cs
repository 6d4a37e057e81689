using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>Every API request the server received, oldest first (bounded). Read it in-process or at GET /_securedra/requests.</summary>
public sealed class RequestLog
{
    private readonly Lock _gate = new();
    private readonly Queue<RequestLogEntry> _entries = new();
    private readonly int _limit;
    private long _sequence;

    public RequestLog(int limit)
    {
        _limit = Math.Max(1, limit);
    }

    /// <summary>A snapshot of the log.</summary>
    public IReadOnlyList<RequestLogEntry> Entries
    {
        get
        {
            lock (_gate)
            {
                return [.. _entries];
            }
        }
    }

    /// <summary>True when some logged request's path starts with <paramref name="pathPrefix"/> (e.g. "/apis/resource.k8s.io/v1/").</summary>
    public bool Any(string pathPrefix) => Entries.Any(e => e.Path.StartsWith(pathPrefix, StringComparison.Ordinal));

    public void Clear()
    {
        lock (_gate)
        {
            _entries.Clear();
        }
    }

    internal long NextSequence()
    {
        lock (_gate)
        {
            return ++_sequence;
        }
    }

    internal void Add(RequestLogEntry entry)
    {
        lock (_gate)
        {
            _entries.Enqueue(entry);
            while (_entries.Count > _limit)
            {
                _entries.Dequeue();
            }
        }
    }

    public static JsonObject ToJson(RequestLogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return new JsonObject
        {
            ["sequence"] = entry.Sequence,
            ["timestamp"] = entry.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture),
            ["method"] = entry.Method,
            ["path"] = entry.Path,
            ["query"] = entry.Query,
            ["group"] = entry.Group,
            ["version"] = entry.Version,
            ["resource"] = entry.Resource,
            ["namespace"] = entry.Namespace,
            ["name"] = entry.Name,
            ["subresource"] = entry.Subresource,
            ["verb"] = entry.Verb,
            ["statusCode"] = entry.StatusCode,
            ["fault"] = entry.Fault,
            ["userAgent"] = entry.UserAgent,
        };
    }
}
