using System.Text.Json;
using Microsoft.AspNetCore.Http;
using SecureDra.KubeletPlugin.Registration;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Hosting;

/// <summary>
/// /healthz (alive: both sockets still exist, else a restart re-creates them), /readyz (JSON detail:
/// kubelet registration accepted and every <see cref="IPluginReadinessCheck"/> ready) and /metrics.
/// </summary>
public sealed class HttpProbeEndpoints(
    PluginSocketLayout layout,
    RegistrationStatusTracker registration,
    IEnumerable<IPluginReadinessCheck> checks,
    MetricsRegistry metrics)
{
    public async Task HealthzAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var missing = new[] { layout.RegistrationSocketPath, layout.DraSocketPath }.Where(p => !File.Exists(p)).ToArray();
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.StatusCode = missing.Length == 0 ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        await context.Response.WriteAsync(missing.Length == 0 ? "ok\n" : $"socket missing: {string.Join(", ", missing)}\n", context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>What /readyz answers, without the detail: kubelet registration accepted and every check ready.</summary>
    public bool IsReady() => Ready(registration.Current, checks.Select(c => c.Check()));

    /// <summary>The one readiness rule, for /readyz and <see cref="IsReady"/>.</summary>
    private static bool Ready(RegistrationSnapshot snapshot, IEnumerable<PluginReadiness> results) =>
        snapshot.State == RegistrationState.Registered && results.All(r => r.Ready);

    public async Task ReadyzAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var snapshot = registration.Current;
        var results = checks.Select(c => (c.Name, Result: c.Check())).ToArray();
        var ready = Ready(snapshot, results.Select(r => r.Result));

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            json.WriteStartObject();
            json.WriteBoolean("ready", ready);
            json.WriteStartObject("registration");
            json.WriteString("state", snapshot.State switch
            {
                RegistrationState.Registered => "registered",
                RegistrationState.Rejected => "rejected",
                _ => "pending",
            });
            if (snapshot.Error is not null)
            {
                json.WriteString("error", snapshot.Error);
            }

            if (snapshot.At is { } at)
            {
                json.WriteString("at", at);
            }

            json.WriteEndObject();
            json.WriteStartObject("checks");
            foreach (var (name, result) in results)
            {
                json.WriteStartObject(name);
                json.WriteBoolean("ready", result.Ready);
                json.WriteString("detail", result.Detail);
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        context.Response.ContentType = "application/json";
        context.Response.StatusCode = ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted).ConfigureAwait(false);
    }

    public async Task MetricsAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.ContentType = MetricsRegistry.ContentType;
        await context.Response.WriteAsync(metrics.Render(), context.RequestAborted).ConfigureAwait(false);
    }
}
