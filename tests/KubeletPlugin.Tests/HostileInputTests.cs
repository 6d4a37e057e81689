using Google.Protobuf;
using Grpc.Core;
using SecureDra.KubeletPlugin.Claims;
using SecureDra.KubeletPlugin.Grpc;
using SecureDra.KubeletPlugin.Hosting;
using Microsoft.Extensions.DependencyInjection;
using V1 = SecureDra.Protocol.Dra.V1;
using V1Beta1 = SecureDra.Protocol.Dra.V1Beta1;

namespace SecureDra.KubeletPlugin.Tests;

public sealed class HostileInputTests : IAsyncLifetime
{
    private const string GoodUid = "3f9c1a52-0d7e-4a61-9a8e-6c1b2f0d9e11";
    private TestPlugin _plugin = null!;

    public async Task InitializeAsync() => _plugin = await TestPlugin.StartAsync();

    public async Task DisposeAsync() => await _plugin.DisposeAsync();

    private static V1.Claim Claim(string ns = "default", string name = "gpu-claim", string uid = GoodUid) => new() { Namespace = ns, Name = name, Uid = uid };

    private async Task<V1.NodePrepareResourcesResponse> PrepareAsync(params V1.Claim[] claims)
    {
        using var channel = _plugin.DraChannel();
        var request = new V1.NodePrepareResourcesRequest();
        request.Claims.Add(claims);
        return await new V1.DRAPlugin.DRAPluginClient(channel).NodePrepareResourcesAsync(request, deadline: DateTime.UtcNow.AddSeconds(10));
    }

    private async Task AssertStillServingAsync()
    {
        var response = await PrepareAsync(Claim());
        Assert.Equal(NotImplementedClaimPipeline.Message, Assert.Single(response.Claims).Value.Error);
        await SocketFileTests.AssertAnswersAsync(_plugin);
    }

    [Fact]
    public async Task Empty_request_is_an_empty_map()
    {
        Assert.Empty((await PrepareAsync()).Claims);
        using var channel = _plugin.DraChannel();
        var un = await new V1Beta1.DRAPlugin.DRAPluginClient(channel).NodeUnprepareResourcesAsync(new V1Beta1.NodeUnprepareResourcesRequest());
        Assert.Empty(un.Claims);
    }

    [Fact]
    public async Task Not_implemented_pipeline_gives_per_claim_errors_on_both_versions()
    {
        using var channel = _plugin.DraChannel();
        var beta = new V1Beta1.NodePrepareResourcesRequest();
        beta.Claims.Add(new V1Beta1.Claim { Namespace = "a", Name = "x", Uid = "u1" });
        beta.Claims.Add(new V1Beta1.Claim { Namespace = "b", Name = "y", Uid = "u2" });
        var response = await new V1Beta1.DRAPlugin.DRAPluginClient(channel).NodePrepareResourcesAsync(beta);
        Assert.Equal(["u1", "u2"], response.Claims.Keys.Order());
        Assert.All(response.Claims.Values, v => Assert.Equal("not implemented yet", v.Error));
        Assert.All(response.Claims.Values, v => Assert.Empty(v.Devices));

        var unprepare = new V1.NodeUnprepareResourcesRequest();
        unprepare.Claims.Add(Claim());
        var un = await new V1.DRAPlugin.DRAPluginClient(channel).NodeUnprepareResourcesAsync(unprepare);
        Assert.Equal("not implemented yet", un.Claims[GoodUid].Error);
    }

    [Fact]
    public async Task Ten_thousand_character_name_is_a_per_claim_error_naming_field_and_limit()
    {
        var response = await PrepareAsync(Claim(name: new string('a', 10_000)), Claim(uid: "other", name: "fine"));
        Assert.Equal("claims[0].name: 10000 characters exceed the DNS-1123 subdomain limit of 253", response.Claims[GoodUid].Error);
        Assert.Equal(NotImplementedClaimPipeline.Message, response.Claims["other"].Error);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Path_like_namespace_is_refused()
    {
        var response = await PrepareAsync(Claim(ns: "../../etc"));
        var error = response.Claims[GoodUid].Error;
        Assert.StartsWith("claims[0].namespace: \"../../etc\" is not a valid DNS-1123 label", error, StringComparison.Ordinal);
        Assert.Contains("63", error, StringComparison.Ordinal);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Empty_and_overlong_uids_are_refused()
    {
        var longUid = new string('u', 129);
        var response = await PrepareAsync(Claim(uid: ""), Claim(uid: longUid));
        Assert.Equal("claims[0].uid: must not be empty", response.Claims[""].Error);
        Assert.Equal("claims[1].uid: 129 characters exceed the limit of 128", response.Claims[longUid].Error);
        Assert.Equal(2, response.Claims.Count);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Uids_outside_the_claim_uid_rule_are_refused_at_admission_before_the_pipeline()
    {
        // The same rule the pipeline and the checkpoint apply (ClaimUid): a UID becomes part of file and CDI names.
        var response = await PrepareAsync(Claim(uid: "../../etc/passwd"), Claim(name: "b", uid: "a b"), Claim(name: "c", uid: "uid\u0000x"));
        Assert.Equal("claims[0].uid: \"../../etc/passwd\" is not 1-128 characters of [A-Za-z0-9-]", response.Claims["../../etc/passwd"].Error);
        Assert.Equal("claims[1].uid: \"a b\" is not 1-128 characters of [A-Za-z0-9-]", response.Claims["a b"].Error);
        Assert.Equal("claims[2].uid: \"uid\\u0000x\" is not 1-128 characters of [A-Za-z0-9-]", response.Claims["uid\u0000x"].Error);
        Assert.DoesNotContain(response.Claims.Values, v => v.Error == NotImplementedClaimPipeline.Message);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Five_thousand_claims_are_InvalidArgument_for_the_call()
    {
        var claims = Enumerable.Range(0, 5000).Select(i => Claim(uid: $"uid-{i}")).ToArray();
        var ex = await Assert.ThrowsAsync<RpcException>(() => PrepareAsync(claims));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("claims: 5000 claims exceed the limit of 128 per request", ex.Status.Detail);

        // The limit itself is allowed.
        var atLimit = await PrepareAsync([.. Enumerable.Range(0, ClaimRequestLimits.MaxClaimsPerRequest).Select(i => Claim(uid: $"uid-{i}"))]);
        Assert.Equal(ClaimRequestLimits.MaxClaimsPerRequest, atLimit.Claims.Count);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Five_MiB_message_is_refused_by_grpc_and_the_plugin_keeps_serving()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => PrepareAsync(Claim(name: new string('n', 5 * 1024 * 1024))));
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Same_uid_twice_is_refused_as_a_whole_and_answered_once()
    {
        var response = await PrepareAsync(Claim(), Claim(uid: "other"), Claim(name: "different"));
        Assert.Equal(2, response.Claims.Count);
        Assert.Equal($"claims[2].uid: \"{GoodUid}\" repeats claims[0]; each claim may be listed once per request", response.Claims[GoodUid].Error);
        Assert.Equal(NotImplementedClaimPipeline.Message, response.Claims["other"].Error);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Control_characters_in_values_are_escaped_in_errors()
    {
        var response = await PrepareAsync(Claim(ns: "bad\nline\u001b[31m"));
        Assert.DoesNotContain("\n", response.Claims[GoodUid].Error, StringComparison.Ordinal);
        Assert.Contains("\\u000a", response.Claims[GoodUid].Error, StringComparison.Ordinal);
    }
}

public sealed class PipelineResultTests
{
    [Fact]
    public async Task Missing_extra_and_thrown_pipeline_results_never_break_the_one_entry_per_uid_rule()
    {
        await using var plugin = await TestPlugin.StartAsync(configure: b => b.Services.AddSingleton<IClaimPipeline, SloppyPipeline>());
        using var channel = plugin.DraChannel();
        var client = new V1.DRAPlugin.DRAPluginClient(channel);
        var request = new V1.NodePrepareResourcesRequest();
        request.Claims.Add(new V1.Claim { Namespace = "a", Name = "ok", Uid = "ok" });
        request.Claims.Add(new V1.Claim { Namespace = "a", Name = "missing", Uid = "missing" });
        var response = await client.NodePrepareResourcesAsync(request);
        Assert.Equal(["missing", "ok"], response.Claims.Keys.Order());
        Assert.Equal("", response.Claims["ok"].Error);
        var device = Assert.Single(response.Claims["ok"].Devices);
        Assert.Equal(("pool", "gpu-0", "share-1"), (device.PoolName, device.DeviceName, device.ShareId));
        Assert.Contains("no result", response.Claims["missing"].Error, StringComparison.Ordinal);

        var unprepare = new V1.NodeUnprepareResourcesRequest();
        unprepare.Claims.Add(new V1.Claim { Namespace = "a", Name = "x", Uid = "x" });
        var un = await client.NodeUnprepareResourcesAsync(unprepare);
        Assert.Contains("no result", Assert.Single(un.Claims).Value.Error, StringComparison.Ordinal);
    }

    private sealed class SloppyPipeline : IClaimPipeline
    {
        public Task<IReadOnlyDictionary<string, ClaimPrepareResult>> PrepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken)
        {
            IReadOnlyDictionary<string, ClaimPrepareResult> result = new Dictionary<string, ClaimPrepareResult>
            {
                ["ok"] = new([new PreparedDevice(["gpu"], "pool", "gpu-0", ["k8s.gpu.nvidia.com/gpu=gpu-0"], "share-1")], null),
                ["unrequested"] = new([], null),
            };
            return Task.FromResult(result);
        }

        public Task<IReadOnlyDictionary<string, ClaimUnprepareResult>> UnprepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("disk on fire");
    }
}

public sealed class HostHookTests
{
    [Fact]
    public async Task Service_collection_hook_replaces_the_default_pipeline()
    {
        using var dir = TempDir.Create();
        var options = TestPlugin.DefaultOptions(dir);
        await using var app = KubeletPluginHost.Build(options, (IServiceCollection services) => services.AddSingleton<IClaimPipeline, EchoPipeline>());
        Assert.IsType<EchoPipeline>(app.Services.GetRequiredService<IClaimPipeline>());
    }

    private sealed class EchoPipeline : IClaimPipeline
    {
        public Task<IReadOnlyDictionary<string, ClaimPrepareResult>> PrepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyDictionary<string, ClaimPrepareResult>>(claims.ToDictionary(c => c.Uid, _ => new ClaimPrepareResult([], null)));

        public Task<IReadOnlyDictionary<string, ClaimUnprepareResult>> UnprepareAsync(IReadOnlyList<ClaimRef> claims, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyDictionary<string, ClaimUnprepareResult>>(claims.ToDictionary(c => c.Uid, _ => ClaimUnprepareResult.Ok));
    }
}
