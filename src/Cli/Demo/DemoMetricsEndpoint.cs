using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using SecureDra.KubeletPlugin.Hosting;

namespace SecureDra.Cli.Demo;

/// <summary>
/// The demo plugin's HTTP listener (/metrics, /healthz, /readyz) on a loopback port the kernel picks, read
/// back after start: the plugin's --http-endpoint needs a fixed port, which two demos (or a demo and a
/// test) on one machine would fight over.
/// </summary>
internal static class DemoMetricsEndpoint
{
    public static void Add(WebApplicationBuilder builder) =>
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            listen.Use(ListenerScopeMiddleware.Tag(ListenerKind.Http));
        }));

    /// <summary>http://127.0.0.1:PORT/metrics of the started plugin.</summary>
    public static string Url(WebApplication app)
    {
        var address = app.Urls.FirstOrDefault(u => u.StartsWith("http://127.0.0.1:", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"the plugin has no loopback HTTP listener ({string.Join(", ", app.Urls)})");
        return address.TrimEnd('/') + "/metrics";
    }
}
