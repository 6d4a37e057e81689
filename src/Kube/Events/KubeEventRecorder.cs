using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.Kube.Client;

namespace SecureDra.Kube.Events;

/// <summary>
/// Writes core/v1 Events. Per (object, reason) a token bucket limits the rate; events over the limit
/// are counted and the next event written carries that count and says how many were suppressed, so
/// the evidence survives without flooding the API server. Failures are logged, never thrown.
/// </summary>
public sealed partial class KubeEventRecorder : IEventRecorder
{
    public const int MaxMessageLength = 1024;
    private const string Ellipsis = "...";

    private readonly IKubeApiClient _client;
    private readonly EventRecorderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Object, string Reason), KeyState> _keys = [];
    private long _sequence;

    public KubeEventRecorder(IKubeApiClient client, EventRecorderOptions? options = null, TimeProvider? timeProvider = null, ILogger<KubeEventRecorder>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _options = options ?? new EventRecorderOptions();
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public async Task RecordAsync(EventTarget target, EventSeverity severity, string reason, string message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(reason);
        message ??= "";
        var objectKey = $"{target.ApiVersion}/{target.Kind}/{target.Namespace}/{target.Name}/{target.Uid}";
        int suppressed;
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            if (!_keys.TryGetValue((objectKey, reason), out var state))
            {
                Prune(now);
                state = new KeyState(new TokenBucket(_options.Burst, _options.RefillInterval, now, _time));
                _keys[(objectKey, reason)] = state;
            }

            if (!state.Bucket.TryTake(now))
            {
                state.Suppressed++;
                LogSuppressed(_logger, target.Kind, target.Name, reason, state.Suppressed);
                return;
            }

            suppressed = state.Suppressed;
            state.Suppressed = 0;
        }

        var body = BuildEvent(target, severity, reason, message, suppressed);
        try
        {
            await _client.CreateAsync(KubeResource.Events, target.Namespace ?? "default", body, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogFailed(_logger, target.Kind, target.Name, reason, "cancelled");
        }
#pragma warning disable CA1031 // Events are evidence, not control flow: no failure to write one may reach the caller.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogFailed(_logger, target.Kind, target.Name, reason, ex.Message);
        }
    }

    /// <summary>The Event object written for one record (public for tests and for callers that batch).</summary>
    public JsonObject BuildEvent(EventTarget target, EventSeverity severity, string reason, string message, int suppressed)
    {
        ArgumentNullException.ThrowIfNull(target);
        var now = _time.GetUtcNow();
        var timestamp = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var micro = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
        var text = suppressed > 0 ? $"{message} ({suppressed} similar events suppressed)" : message;
        var sequence = Interlocked.Increment(ref _sequence);
        var involved = new JsonObject
        {
            ["apiVersion"] = target.ApiVersion,
            ["kind"] = target.Kind,
            ["name"] = target.Name,
        };
        if (target.Namespace is not null)
        {
            involved["namespace"] = target.Namespace;
        }

        if (target.Uid is not null)
        {
            involved["uid"] = target.Uid;
        }

        var source = new JsonObject { ["component"] = _options.Component };
        // A Warning must stand out; empty reasons are refused by the API server when eventTime is set.
        reason = reason.Length == 0 ? "Unknown" : reason;
        if (_options.Host is not null)
        {
            source["host"] = _options.Host;
        }

        var eventName = $"{Truncate(target.Name, 200)}.{now.ToUnixTimeMilliseconds() * 1_000_000 + (sequence % 1_000_000):x}";
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Event",
            ["metadata"] = new JsonObject
            {
                ["name"] = eventName,
                ["namespace"] = target.Namespace ?? "default",
            },
            ["involvedObject"] = involved,
            ["reason"] = Truncate(reason, 128),
            ["message"] = Truncate(text, MaxMessageLength),
            ["type"] = severity == EventSeverity.Warning ? "Warning" : "Normal",
            ["source"] = source,
            ["firstTimestamp"] = timestamp,
            ["lastTimestamp"] = timestamp,
            ["count"] = 1 + suppressed,
            ["eventTime"] = micro,
            ["reportingComponent"] = _options.Component,
            ["reportingInstance"] = Truncate(_options.Host ?? _options.Component, 128),
            ["action"] = Truncate(reason, 128),
        };
    }

    /// <summary>The API server's limits (message 1024, reason/action/reportingInstance 128) count UTF-8 bytes, not characters.</summary>
    internal static string Truncate(string text, int maxBytes)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(text) <= maxBytes)
        {
            return text;
        }

        var budget = maxBytes - Ellipsis.Length;
        var used = 0;
        var end = 0;
        while (end < text.Length)
        {
            var width = char.IsHighSurrogate(text[end]) && end + 1 < text.Length ? 2 : 1;
            var bytes = System.Text.Encoding.UTF8.GetByteCount(text.AsSpan(end, width));
            if (used + bytes > budget)
            {
                break;
            }

            used += bytes;
            end += width;
        }

        return string.Concat(text.AsSpan(0, end), Ellipsis);
    }

    private void Prune(long now)
    {
        if (_keys.Count < _options.MaxTrackedKeys)
        {
            return;
        }

        foreach (var key in _keys.Where(k => k.Value.Suppressed == 0 && k.Value.Bucket.IsFull(now)).Select(k => k.Key).ToList())
        {
            _keys.Remove(key);
        }

        // Still full of busy keys: forget the oldest-inserted; losing a suppressed count beats unbounded memory.
        while (_keys.Count >= _options.MaxTrackedKeys)
        {
            _keys.Remove(_keys.Keys.First());
        }
    }

    private sealed class KeyState(TokenBucket bucket)
    {
        public TokenBucket Bucket { get; } = bucket;
        public int Suppressed { get; set; }
    }
}
