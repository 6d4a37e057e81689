using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.KubeletPlugin.MigManager;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Tests.MigManager;

/// <summary>
/// A manager that accepts connections and never answers (hung, or something else listening on the socket) holds no
/// plugin call past its deadline: reads fail as "unavailable", a scrub is a failed scrub, both within the bound.
/// </summary>
public sealed class MigManagerDeadlineTests : IDisposable
{
    private readonly TempDir _dir = TempDir.Create();
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly List<Socket> _held = [];

    public MigManagerDeadlineTests()
    {
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        _listener.Listen(16);
        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var s = await _listener.AcceptAsync();
                    lock (_held)
                    {
                        _held.Add(s); // read nothing, answer nothing
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // disposed
            }
        });
    }

    private string SocketPath => _dir.File("hung.sock");

    public void Dispose()
    {
        _listener.Dispose();
        lock (_held)
        {
            _held.ForEach(s => s.Dispose());
        }

        _dir.Dispose();
    }

    [Fact]
    public async Task A_hung_manager_fails_reads_and_scrubs_within_their_deadlines()
    {
        using var client = new MigManagerClient(
            new MigManagerClientOptions { SocketPath = SocketPath, CallTimeout = TimeSpan.FromSeconds(2), ScrubTimeout = TimeSpan.FromSeconds(3), StartupGrace = TimeSpan.Zero },
            new MetricsRegistry(), TimeProvider.System, NullLogger<MigManagerClient>.Instance);
        var parent = SimulatedDeviceCatalog.Device(0, 8L << 20);

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<MigManagerUnavailableException>(() => new RemoteMigBackend(client).GetInstancesAsync(parent, CancellationToken.None));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        Assert.Contains("DeadlineExceeded", error.Message, StringComparison.Ordinal);

        watch.Restart();
        var instance = new MigInstance("gpu-0", 1, 19, "1g.10gb", new MigPlacement(0, 1), 1 << 20, [new MigComputeInstance(0, 0)], "MIG-11111111-2222-3333-4444-555555555555");
        var result = await new RemoteMigInstanceScrubber(client, new GpuBackendOptions()).ScrubAsync(parent, instance, SecureDra.Nvml.Scrubbing.ScrubTrigger.Release, CancellationToken.None);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        Assert.False(result.Succeeded);
        Assert.False(result.Verified);
        Assert.Contains("did not answer ScrubInstance", result.FailureReason, StringComparison.Ordinal);
    }
}
