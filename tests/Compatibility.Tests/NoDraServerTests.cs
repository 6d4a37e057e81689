using System.Globalization;
using System.Net;
using System.Text;

namespace SecureDra.Compatibility.Tests;

/// <summary>
/// A cluster without DRA (Kubernetes 1.31 with the resource.k8s.io group off, or a newer one with the
/// group disabled): /apis/resource.k8s.io is 404. The plugin must stop at start with one clear error, not
/// register with the kubelet and fail at the first slice write.
/// </summary>
public class NoDraServerTests
{
    [Fact]
    public async Task Plugin_exits_at_start_with_one_clear_error_when_no_resource_api_version_is_served()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var dir = TempDir.Create();
        await using var server = NoDraApiServer.Start();
        await using var plugin = PluginProcess.Start(dir, server.BaseAddress);

        var exitCode = await plugin.WaitForExitAsync(timeout.Token);

        Assert.NotEqual(0, exitCode);
        var output = plugin.Output;
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var plain = Assert.Single(lines, l => l.StartsWith("securedra kubelet-plugin:", StringComparison.Ordinal));
        Assert.Contains("serves none of resource.k8s.io v1, v1beta2, v1beta1", plain, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.StartsWith("   at ", StringComparison.Ordinal) || l.StartsWith("Unhandled exception", StringComparison.Ordinal)); // no crash dump
        Assert.Contains(server.Requests, p => p == "/apis/resource.k8s.io");
        Assert.DoesNotContain(server.Requests, p => p.StartsWith("/apis/resource.k8s.io/", StringComparison.Ordinal));
        Assert.Empty(Directory.EnumerateFiles(plugin.RegistrarDirectory, "*", SearchOption.AllDirectories)); // never offered itself to the kubelet
    }

    /// <summary>An API server of a cluster without DRA: /version answers, every resource.k8s.io path is 404.</summary>
    private sealed class NoDraApiServer : IAsyncDisposable
    {
        private readonly HttpListener _listener;
        private readonly Task _loop;
        private readonly List<string> _requests = [];

        private NoDraApiServer(HttpListener listener, Uri baseAddress)
        {
            _listener = listener;
            BaseAddress = baseAddress;
            _loop = ServeAsync();
        }

        public Uri BaseAddress { get; }

        public IReadOnlyList<string> Requests
        {
            get
            {
                lock (_requests)
                {
                    return [.. _requests];
                }
            }
        }

        /// <summary>HttpListener cannot bind port 0: a port the kernel just gave out, and another if a parallel test took it first.</summary>
        public static NoDraApiServer Start()
        {
            for (var attempt = 1; ; attempt++)
            {
                var prefix = $"http://127.0.0.1:{FreshPort.Candidate().ToString(CultureInfo.InvariantCulture)}/";
                var listener = new HttpListener();
                listener.Prefixes.Add(prefix);
                try
                {
                    listener.Start();
                    return new NoDraApiServer(listener, new Uri(prefix));
                }
                catch (HttpListenerException) when (attempt < 5)
                {
                    try
                    {
                        listener.Close();
                    }
                    catch (HttpListenerException)
                    {
                        // Closing a listener that never bound looks its port up again, which another process now holds.
                    }
                }
            }
        }

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                var path = context.Request.Url!.AbsolutePath;
                lock (_requests)
                {
                    _requests.Add(path);
                }

                var (status, body) = path switch
                {
                    "/version" => (200, """{"major":"1","minor":"31","gitVersion":"v1.31.4"}"""),
                    "/api" => (200, """{"kind":"APIVersions","versions":["v1"]}"""),
                    "/apis" => (200, """{"kind":"APIGroupList","apiVersion":"v1","groups":[]}"""),
                    _ => (404, """{"kind":"Status","apiVersion":"v1","status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","code":404}"""),
                };
                var bytes = Encoding.UTF8.GetBytes(body);
                context.Response.StatusCode = status;
                context.Response.ContentType = "application/json";
                context.Response.ContentLength64 = bytes.Length;
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _loop;
        }
    }
}
