using System.Diagnostics;
using SecureDra.LocalCluster.Kubelet;

namespace SecureDra.TestKit;

/// <summary>
/// The kubelet side of a node for tests: a started <see cref="KubeletEmulator"/> watching a registrar directory, and a
/// registration wait that survives what a real kubelet survives (a socket file left by a dead process, a watcher that
/// missed the create) and fails with the emulator's refusals and the plugin's output instead of hanging.
/// </summary>
public sealed class KubeletFixture : IAsyncDisposable
{
    private KubeletFixture(KubeletEmulator emulator) => Emulator = emulator;

    public KubeletEmulator Emulator { get; }

    /// <summary>Starts an emulator on <paramref name="options"/>.RegistrarDirectory.</summary>
    public static KubeletFixture Start(KubeletEmulatorOptions options)
    {
        var emulator = new KubeletEmulator(options);
        emulator.Start();
        return new KubeletFixture(emulator);
    }

    /// <summary>
    /// Waits until the plugin behind <paramref name="registrationSocket"/> is registered. While waiting it checks that
    /// <paramref name="plugin"/> is alive, and asks the socket directly as the kubelet's reconciler would when the
    /// watcher saw nothing new.
    /// </summary>
    public async Task<RegisteredDraPlugin> RegisterAsync(string registrationSocket, SecuredraProcess? plugin = null, TimeSpan? timeout = null, Func<string>? context = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (plugin is not null)
            {
                Assert.False(plugin.HasExited, $"the plugin exited with {(plugin.HasExited ? plugin.ExitCode : 0)} before registering\n{plugin.Output}");
            }

            using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
            {
                try
                {
                    return await Emulator.WaitForSocketAsync(registrationSocket, wait.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }

            if (File.Exists(registrationSocket))
            {
                try
                {
                    return await Emulator.RegisterAsync(registrationSocket);
                }
                catch (KubeletRegistrationException)
                {
                    // A stale socket of a dead process, or a plugin not serving yet: ask again.
                }
            }

            if (clock.Elapsed > limit)
            {
                Assert.Fail($"the plugin did not register within {limit.TotalSeconds:0} s; refusals: {string.Join("; ", Emulator.Failures.Select(f => f.Key + ": " + f.Value))}"
                    + "\n" + (context?.Invoke() ?? plugin?.Output ?? ""));
            }
        }
    }

    public ValueTask DisposeAsync() => Emulator.DisposeAsync();
}
