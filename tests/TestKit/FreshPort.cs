using System.Net;
using System.Net.Sockets;

namespace SecureDra.TestKit;

/// <summary>
/// Starts a child that must listen on a TCP port it is told (the plugin's and the controller's endpoints refuse port 0):
/// picks a port the kernel just handed out, starts the child on it, and proves through /proc that the child itself
/// listens there. If a parallel test took the port in between, the child fails to bind and exits, and it is started
/// again on another port, so the race a "free port then bind" helper has cannot fail a test.
/// </summary>
public static class FreshPort
{
    private const int Attempts = 5;

    /// <summary>A loopback port the kernel just gave out (a candidate only: <see cref="StartAsync{T}"/> proves ownership).</summary>
    public static int Candidate()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Starts <paramref name="start"/>(ports) with <paramref name="count"/> fresh ports and returns once its process listens on all of them.
    /// </summary>
    /// <param name="candidate">Where candidate ports come from (default <see cref="Candidate"/>); the kit's own tests hand out a taken one.</param>
    public static async Task<(T Started, int[] Ports)> StartAsync<T>(int count, Func<int[], T> start, Func<T, SecuredraProcess> processOf, TimeSpan? timeout = null, Func<int>? candidate = null)
        where T : IAsyncDisposable
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(processOf);
        candidate ??= Candidate;
        for (var attempt = 1; ; attempt++)
        {
            var ports = Enumerable.Range(0, count).Select(_ => candidate()).ToArray();
            if (ports.Distinct().Count() != count)
            {
                continue;
            }

            var started = start(ports);
            try
            {
                foreach (var port in ports)
                {
                    await processOf(started).WaitUntilListeningAsync(port, timeout);
                }

                return (started, ports);
            }
            catch (PortTakenException) when (attempt < Attempts)
            {
                await started.DisposeAsync();
            }
            catch
            {
                await started.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>As <see cref="StartAsync{T}"/> for one port and a bare process.</summary>
    public static async Task<(SecuredraProcess Process, int Port)> StartAsync(Func<int, SecuredraProcess> start, TimeSpan? timeout = null, Func<int>? candidate = null)
    {
        ArgumentNullException.ThrowIfNull(start);
        var (process, ports) = await StartAsync(1, p => start(p[0]), p => p, timeout, candidate);
        return (process, ports[0]);
    }
}
