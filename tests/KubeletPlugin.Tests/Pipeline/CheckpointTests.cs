using System.Security.Cryptography;
using System.Text;
using SecureDra.KubeletPlugin.State;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Tests.Pipeline;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "securedra-ckpt-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, true);
        }
    }

    private CheckpointFile File(int maxBytes = 4 * 1024 * 1024) => new(_dir, "checkpoint.json", maxBytes);

    private static CheckpointData Sample() => new()
    {
        BootId = "boot-1",
        Claims =
        {
            [TestClaims.Uid(1)] = new CheckpointClaim
            {
                Namespace = "tenant",
                Name = "claim-1",
                State = ClaimCheckpointState.Prepared,
                Devices = [new CheckpointDevice { Name = "gpu-0", Uuid = "GPU-0", ResetPolicy = "ZeroVRAMOnRelease" }],
                Prepared = [new CheckpointPreparedDevice { RequestNames = ["gpu"], PoolName = "node-a", DeviceName = "gpu-0", CdiDeviceIds = ["k8s.gpu.nvidia.com/claim=x-gpu-0"] }],
            },
        },
    };

    [Fact]
    public async Task Round_trip_keeps_everything()
    {
        await File().WriteAsync(Sample(), CancellationToken.None);
        var read = await File().ReadAsync(CancellationToken.None);

        Assert.NotNull(read);
        Assert.Equal("boot-1", read.BootId);
        var claim = read.Claims[TestClaims.Uid(1)];
        Assert.Equal(ClaimCheckpointState.Prepared, claim.State);
        Assert.Equal("gpu-0", claim.Devices[0].Name);
        Assert.Equal("k8s.gpu.nvidia.com/claim=x-gpu-0", claim.Prepared![0].CdiDeviceIds[0]);
        Assert.Equal(["checkpoint.json"], Directory.EnumerateFileSystemEntries(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Checkpoint_is_readable_by_the_plugin_only()
    {
        // It names every tenant's claims on the node; nobody else on the host needs to read it.
        await File().WriteAsync(Sample(), CancellationToken.None);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(Path.Combine(_dir, "checkpoint.json")));
    }

    [Fact]
    public async Task Missing_file_reads_as_null() => Assert.Null(await File().ReadAsync(CancellationToken.None));

    [Fact]
    public async Task Checksum_covers_the_exact_payload_bytes()
    {
        await File().WriteAsync(Sample(), CancellationToken.None);
        var bytes = await System.IO.File.ReadAllBytesAsync(Path.Combine(_dir, "checkpoint.json"));
        var newline = Array.IndexOf(bytes, (byte)'\n');
        var header = Encoding.ASCII.GetString(bytes, 0, newline);
        var payload = bytes[(newline + 1)..];

        Assert.Equal($"SECUREDRA-CHECKPOINT 1 sha256={Convert.ToHexStringLower(SHA256.HashData(payload))} bytes={payload.Length}", header);
        Assert.Contains("\"state\":\"Prepared\"", Encoding.UTF8.GetString(payload), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Differently_formatted_but_valid_payload_loads_because_nothing_is_re_marshaled()
    {
        // Pretty-printed, reordered, with fields a newer version added: a re-marshal check would call this corrupt.
        var payload = Encoding.UTF8.GetBytes($$"""
            {
              "claims": {
                "{{TestClaims.Uid(1)}}": { "state": "Prepared", "name": "claim-1", "namespace": "tenant",
                  "devices": [ { "name": "gpu-0", "uuid": "GPU-0", "futureDeviceField": [1, 2] } ],
                  "futureClaimField": { "x": true } }
              },
              "bootId": "boot-1",
              "format": 1,
              "futureTopLevel": "hello"
            }
            """);
        await WriteRaw(payload);

        var read = await File().ReadAsync(CancellationToken.None);

        Assert.Equal("gpu-0", read!.Claims[TestClaims.Uid(1)].Devices[0].Name);
        Assert.True(read.Extra!.ContainsKey("futureTopLevel"));

        // Unknown fields survive a rewrite (downgrade → upgrade keeps them).
        await File().WriteAsync(read, CancellationToken.None);
        var text = await System.IO.File.ReadAllTextAsync(Path.Combine(_dir, "checkpoint.json"));
        Assert.Contains("futureTopLevel", text, StringComparison.Ordinal);
        Assert.Contains("futureClaimField", text, StringComparison.Ordinal);
        Assert.Contains("futureDeviceField", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("append")]
    [InlineData("no-header")]
    [InlineData("bad-json")]
    [InlineData("newer-header")]
    [InlineData("newer-format")]
    [InlineData("bad-uid")]
    public async Task Corruption_fails_closed_naming_the_file_and_the_fix(string damage)
    {
        await File().WriteAsync(Sample(), CancellationToken.None);
        var path = Path.Combine(_dir, "checkpoint.json");
        var bytes = await System.IO.File.ReadAllBytesAsync(path);
        switch (damage)
        {
            case "flip":
                bytes[^5] ^= 0x20;
                await System.IO.File.WriteAllBytesAsync(path, bytes);
                break;
            case "truncate":
                await System.IO.File.WriteAllBytesAsync(path, bytes[..^10]);
                break;
            case "append":
                await System.IO.File.WriteAllBytesAsync(path, [.. bytes, .. "xx"u8.ToArray()]);
                break;
            case "no-header":
                await System.IO.File.WriteAllTextAsync(path, "{\"claims\":{}}");
                break;
            case "bad-json":
                await WriteRaw("{\"claims\": [1,2"u8.ToArray());
                break;
            case "newer-header":
                await System.IO.File.WriteAllBytesAsync(path, [.. "SECUREDRA-CHECKPOINT 2"u8.ToArray(), .. bytes["SECUREDRA-CHECKPOINT 1".Length..]]);
                break;
            case "newer-format":
                await WriteRaw("{\"format\":2,\"claims\":{}}"u8.ToArray());
                break;
            case "bad-uid":
                await WriteRaw("{\"claims\":{\"../x\":{\"state\":\"Prepared\",\"devices\":[]}}}"u8.ToArray());
                break;
        }

        var ex = await Assert.ThrowsAsync<CheckpointCorruptException>(() => File().ReadAsync(CancellationToken.None));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("refuses to start", ex.Message, StringComparison.Ordinal);
        Assert.Contains("move the file aside", ex.Message, StringComparison.Ordinal);
        Assert.True(System.IO.File.Exists(path), "a corrupt checkpoint is never wiped");
    }

    [Theory]
    [InlineData("{\"parent\":\"gpu-0\",\"profileId\":14,\"start\":7,\"size\":2}", "outside profiles 0-63 or the 8 memory slices")]
    [InlineData("{\"parent\":\"gpu-0\",\"profileId\":-1,\"start\":0,\"size\":1}", "outside profiles 0-63 or the 8 memory slices")]
    [InlineData("{\"parent\":\"\",\"profileId\":14,\"start\":2,\"size\":2}", "migInstance has no parent")]
    [InlineData("{\"parent\":\"gpu-0\",\"profileId\":14,\"start\":2,\"size\":2,\"gpuInstanceId\":64}", "gpuInstanceId must be 0-63")]
    [InlineData("{\"parent\":\"gpu-0\",\"profileId\":14,\"start\":2,\"size\":2,\"computeInstanceId\":0,\"uuid\":\"MIG-x\"}", "only with a gpuInstanceId")]
    [InlineData("{\"parent\":\"gpu-0\",\"profileId\":14,\"start\":2,\"size\":2,\"gpuInstanceId\":1,\"uuid\":\"MIG-x\"}", "uuid is recorded with its compute instance")]
    public async Task A_MIG_instance_record_the_plugin_never_writes_makes_the_checkpoint_corrupt(string migInstance, string problem)
    {
        await WriteRaw(System.Text.Encoding.UTF8.GetBytes(
            $"{{\"claims\":{{\"{TestClaims.Uid(1)}\":{{\"namespace\":\"t\",\"name\":\"c\",\"state\":\"PrepareStarted\",\"devices\":[{{\"name\":\"gpu-0-mig-2g20gb-14-2\",\"uuid\":\"\",\"migInstance\":{migInstance}}}]}}}}}}"));

        var ex = await Assert.ThrowsAsync<CheckpointCorruptException>(() => File().ReadAsync(CancellationToken.None));

        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"parentUuid\":\"\",\"gpuInstanceId\":1,\"computeInstanceId\":0}", "migSpec parentUuid must be 1-96 characters")]
    [InlineData("{\"gpuInstanceId\":1,\"computeInstanceId\":0}", "migSpec parentUuid must be 1-96 characters")]
    [InlineData("{\"parentUuid\":\"GPU-x\",\"gpuInstanceId\":64,\"computeInstanceId\":0}", "migSpec gpuInstanceId must be 0-63")]
    [InlineData("{\"parentUuid\":\"GPU-x\",\"gpuInstanceId\":-1,\"computeInstanceId\":0}", "migSpec gpuInstanceId must be 0-63")]
    [InlineData("{\"parentUuid\":\"GPU-x\",\"gpuInstanceId\":1,\"computeInstanceId\":8}", "computeInstanceId 0-7")]
    public async Task A_MIG_spec_record_the_plugin_never_writes_makes_the_checkpoint_corrupt(string migSpec, string problem)
    {
        await WriteRaw(System.Text.Encoding.UTF8.GetBytes(
            $"{{\"claims\":{{\"{TestClaims.Uid(1)}\":{{\"namespace\":\"t\",\"name\":\"c\",\"state\":\"Prepared\",\"devices\":[{{\"name\":\"gpu-0-mig-2g20gb-14-2\",\"uuid\":\"MIG-y\",\"migSpec\":{migSpec}}}]}}}}}}"));

        var ex = await Assert.ThrowsAsync<CheckpointCorruptException>(() => File().ReadAsync(CancellationToken.None));

        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_parent_uuid_longer_than_NVML_gives_makes_the_checkpoint_corrupt()
    {
        var migSpec = $"{{\"parentUuid\":\"{new string('a', 97)}\",\"gpuInstanceId\":1,\"computeInstanceId\":0}}";
        await WriteRaw(System.Text.Encoding.UTF8.GetBytes(
            $"{{\"claims\":{{\"{TestClaims.Uid(1)}\":{{\"namespace\":\"t\",\"name\":\"c\",\"state\":\"Prepared\",\"devices\":[{{\"name\":\"gpu-0-mig-2g20gb-14-2\",\"uuid\":\"MIG-y\",\"migSpec\":{migSpec}}}]}}}}}}"));

        var ex = await Assert.ThrowsAsync<CheckpointCorruptException>(() => File().ReadAsync(CancellationToken.None));

        Assert.Contains("migSpec parentUuid must be 1-96 characters", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_MIG_spec_record_with_fields_a_later_version_adds_round_trips()
    {
        await WriteRaw(System.Text.Encoding.UTF8.GetBytes(
            $"{{\"claims\":{{\"{TestClaims.Uid(1)}\":{{\"namespace\":\"t\",\"name\":\"c\",\"state\":\"Prepared\",\"devices\":[{{\"name\":\"gpu-0-mig-2g20gb-14-2\",\"uuid\":\"MIG-y\",\"migSpec\":{{\"parentUuid\":\"GPU-x\",\"gpuInstanceId\":3,\"computeInstanceId\":0,\"future\":7}}}}]}}}}}}"));

        var data = await File().ReadAsync(CancellationToken.None);
        var spec = data!.Claims[TestClaims.Uid(1)].Devices.Single().MigSpec!;
        Assert.Equal(("GPU-x", 3, 0), (spec.ParentUuid, spec.GpuInstanceId, spec.ComputeInstanceId));
        Assert.Contains("\"future\":7", System.Text.Encoding.UTF8.GetString(CheckpointFile.Serialize(data)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Oversized_file_is_refused_without_reading_it_all()
    {
        Directory.CreateDirectory(_dir);
        await System.IO.File.WriteAllBytesAsync(Path.Combine(_dir, "checkpoint.json"), new byte[10_000]);
        var ex = await Assert.ThrowsAsync<CheckpointCorruptException>(() => File(maxBytes: 4096).ReadAsync(CancellationToken.None));
        Assert.Contains("larger than the limit of 4096 bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_commits_are_batched_by_the_single_writer()
    {
        var metrics = new MetricsRegistry();
        var journal = new ClaimJournal(File(), metrics);
        journal.Load(new CheckpointData());
        var tasks = Enumerable.Range(0, 50).Select(async i =>
        {
            await Task.Yield();
            journal.Put(TestClaims.Uid(i), new CheckpointClaim { Namespace = "t", Name = "c", State = ClaimCheckpointState.Prepared });
            await journal.CommitAsync(CancellationToken.None);
        });
        await Task.WhenAll(tasks);

        Assert.InRange(metrics.Counter(ClaimJournal.WritesMetric, "").Value(), 1, 50);
        Assert.Equal(50, (await File().ReadAsync(CancellationToken.None))!.Claims.Count);
        Assert.Single(Directory.EnumerateFileSystemEntries(_dir));
    }

    private async Task WriteRaw(byte[] payload)
    {
        Directory.CreateDirectory(_dir);
        var header = Encoding.ASCII.GetBytes($"SECUREDRA-CHECKPOINT 1 sha256={Convert.ToHexStringLower(SHA256.HashData(payload))} bytes={payload.Length}\n");
        await System.IO.File.WriteAllBytesAsync(Path.Combine(_dir, "checkpoint.json"), [.. header, .. payload]);
    }
}
