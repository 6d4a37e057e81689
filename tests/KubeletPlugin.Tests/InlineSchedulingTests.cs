using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SecureDra.KubeletPlugin.Claims;
using V1 = SecureDra.Protocol.Dra.V1;

namespace SecureDra.KubeletPlugin.Tests;

/// <summary>
/// Kestrel handles a request on the thread that read it (fewer thread-pool wake-ups per kubelet call). The risk of
/// that setting is a blocking handler holding up the connection it came in on; the kubelet sends every call over one
/// HTTP/2 connection, so a Prepare blocked in an fsync must not stall the calls beside it.
/// </summary>
public class InlineSchedulingTests
{
    private const string BlockedUid = "11111111-1111-1111-1111-111111111111";
    private const string OtherUid = "22222222-2222-2222-2222-222222222222";

    [Fact]
    public async Task The_plugin_handles_requests_inline_and_leaves_socket_completions_on_the_thread_pool()
    {
        await using var plugin = await TestPlugin.StartAsync();

        Assert.True(plugin.App.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.UnsafePreferInlineScheduling);
        // With this set, a blocking handler would run on the socket engine's own thread and stall every socket.
        Assert.Null(Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"));
    }

    [Fact]
    public async Task A_Prepare_blocked_synchronously_does_not_stall_another_call_on_the_same_connection()
    {
        using var pipeline = new BlockingPipeline();
        await using var plugin = await TestPlugin.StartAsync(configure: b => b.Services.AddSingleton<IClaimPipeline>(pipeline));
        using var channel = plugin.DraChannel();
        var client = new V1.DRAPlugin.DRAPluginClient(channel);

        var blocked = client.NodePrepareResourcesAsync(Request(BlockedUid), deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync;
        Assert.True(pipeline.Entered.Wait(TimeSpan.FromSeconds(30)), "the first Prepare never reached the pipeline");

        var other = await client.NodePrepareResourcesAsync(Request(OtherUid), deadline: DateTime.UtcNow.AddSeconds(30));

        Assert.Equal("", other.Claims[OtherUid].Error);
        Assert.False(blocked.IsCompleted, "the blocked Prepare finished before it was released: the test proved nothing");
        pipeline.Release.Set();
        Assert.Equal("", (await blocked).Claims[BlockedUid].Error);
    }

    private static V1.NodePrepareResourcesRequest Request(string uid)
    {
        var request = new V1.NodePrepareResourcesRequest();
        request.Claims.Add(new V1.Claim { Namespace = "default", Name = "claim-" + uid[..4], Uid = uid });
        return request;
    }

    /// <summary>Blocks the calling thread (as an fsync does) on the claim <see cref="BlockedUid"/> until released.</summary>
    private sealed class BlockingPipeline : IClaimPipeline, IDisposable
    {
        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public Task<IReadOnlyDictionary<string, ClaimPrepareResult>> PrepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken)
        {
            if (claims.Any(c => c.Uid == BlockedUid))
            {
                Entered.Set();
                Release.Wait(TimeSpan.FromSeconds(60), CancellationToken.None);
            }

            IReadOnlyDictionary<string, ClaimPrepareResult> results = claims.ToDictionary(c => c.Uid, _ => new ClaimPrepareResult([], null), StringComparer.Ordinal);
            return Task.FromResult(results);
        }

        public Task<IReadOnlyDictionary<string, ClaimUnprepareResult>> UnprepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public void Dispose()
        {
            Release.Set();
            Entered.Dispose();
            Release.Dispose();
        }
    }
}
