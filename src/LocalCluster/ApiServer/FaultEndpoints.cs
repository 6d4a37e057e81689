using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace SecureDra.LocalCluster.ApiServer;

/// <summary>
/// Fault injection, all in one place: the /_securedra/faults control endpoint that manages the rules, and the
/// answer a request gets when a rule matches it (a Status error with the real server's reason and message, or a
/// hang until the client gives up).
/// </summary>
public sealed class FaultEndpoints
{
    public const string Path = "/_securedra/faults";

    private readonly FaultInjector _faults;
    private readonly TimeProvider _time;
    private readonly int _maxBodyBytes;
    private readonly CancellationToken _stopping;

    public FaultEndpoints(FaultInjector faults, TimeProvider time, int maxBodyBytes, CancellationToken stopping)
    {
        _faults = faults;
        _time = time;
        _maxBodyBytes = maxBodyBytes;
        _stopping = stopping;
    }

    /// <summary>
    /// Answers the request from a matching fault rule, if any: <paramref name="log"/> is told the status (0 for a
    /// hang) and the fault's name. False when no rule matched and the request goes on as usual.
    /// </summary>
    public async Task<bool> TryAnswerAsync(HttpContext context, string path, Action<int, string> log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(log);
        if (_faults.TryTake(context.Request.Method, path) is not { } fault)
        {
            return false;
        }

        if (fault.Hang)
        {
            log(0, "hang");
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _stopping);
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, _time, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            context.Abort();
            return true;
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
        log(fault.Status, fault.Status.ToString(CultureInfo.InvariantCulture));
        await JsonIo.WriteAsync(context.Response, fault.Status, error.ToStatus(), ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>POST adds a rule (201), GET lists the pending ones, DELETE clears them; each answers with the pending rules.</summary>
    public async Task HandleControlAsync(HttpContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!_faults.EndpointEnabled)
        {
            // Off unless the server was built for tests (LocalApiServerOptions.FaultEndpoint): the shipped binary answers
            // as the real API server would for an unknown path.
            throw new ApiError(404, "NotFound", "the server could not find the requested resource");
        }

        switch (context.Request.Method)
        {
            case "POST":
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

                await WritePendingAsync(context, 201, ct).ConfigureAwait(false);
                return;
            case "GET":
                await WritePendingAsync(context, 200, ct).ConfigureAwait(false);
                return;
            case "DELETE":
                _faults.Clear();
                await WritePendingAsync(context, 200, ct).ConfigureAwait(false);
                return;
            default:
                throw new ApiError(404, "NotFound", "the server could not find the requested resource");
        }
    }

    private async Task WritePendingAsync(HttpContext context, int status, CancellationToken ct)
    {
        var items = new JsonArray();
        foreach (var (rule, remaining) in _faults.Pending)
        {
            items.Add((JsonNode)FaultInjector.ToJson(rule, remaining));
        }

        await JsonIo.WriteAsync(context.Response, status, new JsonObject { ["items"] = items }, ct).ConfigureAwait(false);
    }
}
