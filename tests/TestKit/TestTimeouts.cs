namespace SecureDra.TestKit;

/// <summary>Deadlines a test gives a real component where the product's own value assumes a machine that is not overloaded.</summary>
public static class TestTimeouts
{
    /// <summary>
    /// GetInfo deadline for a test that registers a plugin once, directly (<c>KubeletEmulator.RegisterAsync</c>), with no
    /// retry. The kubelet's 1 s (the emulator's default) holds on a node; on the loaded 2-core test machine the first
    /// gRPC call of a process (JIT, the HTTP/2 connection) missed it once at load 30. The watcher path retries a missed
    /// GetInfo as the kubelet does and keeps 1 s; only the single direct attempt gets this budget. What the test checks
    /// (one GetInfo, its answer, its metric) is unchanged: a plugin that answers wrongly fails the same way, only later.
    /// </summary>
    public static readonly TimeSpan DirectGetInfo = TimeSpan.FromSeconds(10);
}
