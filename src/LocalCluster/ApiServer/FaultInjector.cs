using System.Text.Json.Nodes;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>Queued fault rules; each matching request consumes one count of the first rule that matches it.</summary>
public sealed class FaultInjector
{
    private readonly Lock _gate = new();
    private readonly List<(FaultRule Rule, int Remaining)> _rules = [];

    /// <summary>
    /// Whether HTTP clients may queue rules through <c>/_securedra/faults</c> (<see cref="LocalApiServerOptions.FaultEndpoint"/>).
    /// In-process callers use <see cref="Add"/> either way.
    /// </summary>
    public bool EndpointEnabled { get; init; }

    public void Add(FaultRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (rule.Count <= 0)
        {
            throw new ArgumentException("count must be at least 1", nameof(rule));
        }

        if (!rule.Hang && rule.Status is < 400 or > 599)
        {
            throw new ArgumentException($"status {rule.Status} is not an HTTP error status (400-599)", nameof(rule));
        }

        lock (_gate)
        {
            _rules.Add((rule, rule.Count));
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _rules.Clear();
        }
    }

    /// <summary>Rules still armed, with how many requests each will still fail.</summary>
    public IReadOnlyList<(FaultRule Rule, int Remaining)> Pending
    {
        get
        {
            lock (_gate)
            {
                return [.. _rules];
            }
        }
    }

    /// <summary>Takes one count of the first rule matching the request, or null.</summary>
    public FaultRule? TryTake(string method, string path)
    {
        lock (_gate)
        {
            for (var i = 0; i < _rules.Count; i++)
            {
                var (rule, remaining) = _rules[i];
                if ((rule.PathPrefix is null || path.StartsWith(rule.PathPrefix, StringComparison.Ordinal))
                    && (rule.Method is null || string.Equals(rule.Method, method, StringComparison.OrdinalIgnoreCase)))
                {
                    if (remaining <= 1)
                    {
                        _rules.RemoveAt(i);
                    }
                    else
                    {
                        _rules[i] = (rule, remaining - 1);
                    }

                    return rule;
                }
            }

            return null;
        }
    }

    /// <summary>Parses the HTTP form: {"count":N,"status":500,"hang":false,"pathPrefix":"/apis/...","method":"PUT","retryAfterSeconds":1}.</summary>
    public static FaultRule Parse(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        foreach (var (key, _) in body)
        {
            if (key is not ("count" or "status" or "hang" or "pathPrefix" or "method" or "retryAfterSeconds"))
            {
                throw ApiError.BadRequest($"unknown field \"{key}\" in fault rule");
            }
        }

        try
        {
            return new FaultRule
            {
                Count = body["count"]?.GetValue<int>() ?? 1,
                Status = body["status"]?.GetValue<int>() ?? 500,
                Hang = body["hang"]?.GetValue<bool>() ?? false,
                PathPrefix = body["pathPrefix"]?.GetValue<string>(),
                Method = body["method"]?.GetValue<string>(),
                RetryAfterSeconds = body["retryAfterSeconds"]?.GetValue<int>() ?? 1,
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw ApiError.BadRequest($"invalid fault rule: {e.Message}");
        }
    }

    public static JsonObject ToJson(FaultRule rule, int remaining)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return new JsonObject
        {
            ["count"] = remaining,
            ["status"] = rule.Status,
            ["hang"] = rule.Hang,
            ["pathPrefix"] = rule.PathPrefix,
            ["method"] = rule.Method,
            ["retryAfterSeconds"] = rule.RetryAfterSeconds,
        };
    }
}
