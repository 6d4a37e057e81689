using System.Text.Json;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;

namespace SecureDra.KubeletPlugin.Tests.Pipeline;

public sealed class CdiSpecTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "securedra-cdi-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly CdiSpecWriter _writer;
    private readonly FakeGpuBackend _backend;

    public CdiSpecTests()
    {
        _writer = new CdiSpecWriter(new PipelineContext(new KubeletPluginOptions { DriverName = TestClaims.Driver, NodeName = TestClaims.Node, CdiRoot = _root }, new ClaimPipelineOptions()));
        _backend = new FakeGpuBackend(_root, 2);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, true);
        }
    }

    [Fact]
    public async Task Spec_has_documented_kind_one_device_per_gpu_and_only_its_nodes()
    {
        var uid = TestClaims.Uid(7);
        await _writer.WriteAsync(uid, _backend.Devices, CancellationToken.None);

        Assert.Equal([$"k8s.gpu.nvidia.com-claim_{uid}.json"], Directory.EnumerateFileSystemEntries(_root).Select(Path.GetFileName));
        using var doc = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(_root, _writer.FileName(uid))));
        var spec = doc.RootElement;
        Assert.Equal("0.6.0", spec.GetProperty("cdiVersion").GetString());
        Assert.Equal("k8s.gpu.nvidia.com/claim", spec.GetProperty("kind").GetString());
        Assert.Equal(uid, spec.GetProperty("annotations").GetProperty("securedra.io/claim-uid").GetString());

        var devices = spec.GetProperty("devices").EnumerateArray().ToList();
        Assert.Equal(2, devices.Count);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal($"{uid}-gpu-{i}", devices[i].GetProperty("name").GetString());
            var edits = devices[i].GetProperty("containerEdits");
            // void: the NVIDIA runtime adds nothing, so the GPU the container gets is exactly the
            // device node below, the one of the device the pipeline reserved and scrubs.
            Assert.Equal(["NVIDIA_VISIBLE_DEVICES=void"], edits.GetProperty("env").EnumerateArray().Select(e => e.GetString()));
            Assert.DoesNotContain(_backend.Devices[i].Uuid, edits.GetRawText(), StringComparison.Ordinal);
            Assert.Equal([$"/dev/nvidia{i}", "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools"],
                edits.GetProperty("deviceNodes").EnumerateArray().Select(n => n.GetProperty("path").GetString()));
            Assert.Equal(_backend.Devices[i].DeviceNodePaths, edits.GetProperty("deviceNodes").EnumerateArray().Select(n => n.GetProperty("path").GetString()!).Where(p => _backend.Devices.Any(d => d.DeviceNodePaths.Contains(p))));
        }

        Assert.Equal($"k8s.gpu.nvidia.com/claim={uid}-gpu-1", _writer.DeviceId(uid, "gpu-1"));
    }

    [Fact]
    public async Task Rewrite_is_atomic_and_leaves_no_temp_files()
    {
        var uid = TestClaims.Uid(1);
        for (var i = 0; i < 20; i++)
        {
            await _writer.WriteAsync(uid, [_backend.Devices[i % 2]], CancellationToken.None);
        }

        Assert.Single(Directory.EnumerateFileSystemEntries(_root));
        using var doc = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(_root, _writer.FileName(uid))));
        Assert.Equal($"{uid}-gpu-1", doc.RootElement.GetProperty("devices")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task Delete_removes_the_file_and_a_missing_file_is_fine()
    {
        var uid = TestClaims.Uid(2);
        await _writer.WriteAsync(uid, _backend.Devices, CancellationToken.None);
        _writer.Delete(uid);
        _writer.Delete(uid);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root));
    }

    [Theory]
    [InlineData("../../etc/cron.d/x")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("")]
    [InlineData("uid with space")]
    [InlineData("uid\0null")]
    public async Task Uids_that_could_escape_the_root_are_rejected(string uid)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _writer.WriteAsync(uid, _backend.Devices, CancellationToken.None));
        Assert.Throws<ArgumentException>(() => _writer.Delete(uid));
        Assert.False(Directory.Exists(_root) && Directory.EnumerateFileSystemEntries(_root).Any());
    }

    [Fact]
    public void Device_nodes_outside_dev_are_refused()
    {
        var evil = _backend.Devices[0] with { DeviceNodePaths = ["/etc/shadow"] };
        Assert.Throws<InvalidOperationException>(() => _writer.Build(TestClaims.Uid(1), [evil]));
    }

    [Fact]
    public async Task Failed_write_leaves_nothing_behind()
    {
        Directory.CreateDirectory(_root);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _writer.WriteAsync(TestClaims.Uid(3), _backend.Devices, cts.Token));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root));
    }
}
