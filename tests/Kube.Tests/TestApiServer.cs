using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SecureDra.Kube.Tests;

/// <summary>A real Kestrel server on 127.0.0.1 with a per-test handler and a log of what it received.</summary>
public sealed class TestApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestApiServer(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public Func<HttpContext, Task> Handler { get; set; } = ctx =>
    {
        ctx.Response.StatusCode = 404;
        return Task.CompletedTask;
    };

    public static async Task<TestApiServer> StartAsync(Func<HttpContext, Task>? handler = null, X509Certificate2? tlsCertificate = null, bool requireClientCertificate = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, listen =>
        {
            if (tlsCertificate is not null)
            {
                listen.UseHttps(https =>
                {
                    https.ServerCertificate = tlsCertificate;
                    if (requireClientCertificate)
                    {
                        https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate;
                        https.AllowAnyClientCertificate();
                    }
                });
            }
        }));
        var app = builder.Build();
        TestApiServer? server = null;
        app.Run(async ctx =>
        {
            using var reader = new StreamReader(ctx.Request.Body);
            var body = await reader.ReadToEndAsync(ctx.RequestAborted);
            server!.Requests.Enqueue(new RecordedRequest(
                ctx.Request.Method,
                ctx.Request.Path.Value ?? "",
                ctx.Request.QueryString.Value ?? "",
                body,
                ctx.Request.Headers.UserAgent.ToString(),
                ctx.Request.Headers.Authorization.ToString(),
                ctx.Request.ContentType,
                ctx.Connection.ClientCertificate?.Subject));
            ctx.Items["body"] = body;
            await server.Handler(ctx);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new TestApiServer(app, new Uri(address));
        if (handler is not null)
        {
            server.Handler = handler;
        }

        return server;
    }

    public static async Task WriteJsonAsync(HttpContext ctx, int status, string json)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(json, ctx.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record RecordedRequest(string Method, string Path, string Query, string Body, string UserAgent, string Authorization, string? ContentType, string? ClientCertificateSubject = null);
