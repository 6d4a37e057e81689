using System.Net;
using System.Net.Sockets;

namespace SecureDra.Cli.Tests;

/// <summary>The test kit's guarantees, tried against the real executable: a port is only ever trusted once proven the child's own.</summary>
public sealed class TestKitTests
{
    [Fact]
    public void Listening_sockets_are_attributed_to_the_process_that_holds_them()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        Assert.Contains(port, ListeningSockets.PortsOf(Environment.ProcessId));
        Assert.DoesNotContain(port, ListeningSockets.PortsOf(1)); // another process (init) does not hold it
        Assert.Empty(ListeningSockets.PortsOf(int.MaxValue)); // no such process: nothing, not an exception
    }

    [Fact]
    public async Task A_port_taken_before_the_child_binds_it_is_replaced_by_another()
    {
        // Someone else holds the first candidate: the child fails to bind it, exits, and is started again.
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var taken = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var candidates = new Queue<int>([taken]);
        var tried = new List<int>();

        var (process, port) = await FreshPort.StartAsync(
            p =>
            {
                tried.Add(p);
                return SecuredraProcess.Start("local-apiserver", ["local-apiserver", "--listen", $"127.0.0.1:{p}"]);
            },
            TimeSpan.FromSeconds(60),
            () => candidates.Count > 0 ? candidates.Dequeue() : FreshPort.Candidate());
        await using var _ = process;

        Assert.Equal(taken, tried[0]);
        Assert.NotEqual(taken, port);
        Assert.Equal(2, tried.Count);
        Assert.Contains(port, process.ListeningPorts());
        Assert.DoesNotContain(taken, process.ListeningPorts());
    }

    [Fact]
    public async Task A_child_that_exits_for_another_reason_fails_at_once_with_its_output()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => FreshPort.StartAsync(
            p => SecuredraProcess.Start("local-apiserver", ["local-apiserver", "--listen", $"127.0.0.1:{p}", "--kubernetes-version", "0.1"]),
            TimeSpan.FromSeconds(60)));

        Assert.IsNotType<PortTakenException>(failure);
        Assert.Contains("exited with", failure.Message, StringComparison.Ordinal);
        Assert.Contains("err| securedra local-apiserver: ", failure.Message, StringComparison.Ordinal); // its one-line error, in the failure
    }

    [Fact]
    public async Task Poll_names_what_it_waited_for_when_the_deadline_passes()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => Poll.UntilAsync(() => false, "the impossible", TimeSpan.FromMilliseconds(100), () => "context line"));

        Assert.Contains("waiting until the impossible", failure.Message, StringComparison.Ordinal);
        Assert.Contains("context line", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Temp_dirs_are_short_enough_for_unix_sockets_and_gone_after_dispose()
    {
        string path;
        using (var dir = TempDir.Create("sdkit"))
        {
            path = dir.Path;
            dir.Write("a/b/c.txt", "x");
            Assert.True(dir.File("kubelet.sock").Length < 80, dir.Path);
            Assert.True(File.Exists(Path.Combine(path, "a", "b", "c.txt")));
        }

        Assert.False(Directory.Exists(path));
    }
}
