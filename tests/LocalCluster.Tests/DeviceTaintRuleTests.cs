using System.Net;
using System.Text.Json.Nodes;
using SecureDra.Kube.Client;
using SecureDra.Kube.Resources;
using SecureDra.Kube.Taints;
using SecureDra.LocalCluster.ApiServer;

namespace SecureDra.LocalCluster.Tests;

/// <summary>
/// DeviceTaintRule on the local API server per Kubernetes release (v1alpha3 in 1.33-1.35, v1beta2 in 1.36, off by
/// default everywhere), and the proxy's writer against it: discovery, create, idempotence, rewrite, removal,
/// refusal, and the selector that must never widen to more than one device.
/// </summary>
public class DeviceTaintRuleTests
{
    private const string Driver = "gpu.nvidia.com";
    private const string Key = "securedra.io/scrub-failed";
    private static readonly DeviceTaintRuleTarget Gpu0 = new(Driver, "node-a", "gpu-0");

    private static Task<TestServer> StartAsync(string version, bool? rules = true) =>
        TestServer.StartAsync(version, o => o.DeviceTaintRules = rules);

    private static KubeApiClient Client(TestServer t) => KubeApiClientFactory.Create(t.Server.BaseAddress.ToString().TrimEnd('/'));

    [Theory]
    [InlineData("1.32")]
    [InlineData("1.33")]
    [InlineData("1.34")]
    [InlineData("1.35")]
    [InlineData("1.36")]
    public async Task No_release_serves_devicetaintrules_by_default_and_the_writer_says_not_served(string kubernetes)
    {
        await using var t = await StartAsync(kubernetes, rules: null);
        using var client = Client(t);
        var writer = new DeviceTaintRuleWriter(client);
        var result = await writer.ApplyAsync(Gpu0, Key, "scrub failed", CancellationToken.None);
        Assert.Equal(DeviceTaintRuleOutcome.NotServed, result.Outcome);
        Assert.Null(result.ApiVersion);
        Assert.False(result.Succeeded);
        Assert.Contains("serves no devicetaintrules", result.Message, StringComparison.Ordinal);
        Assert.Equal(DeviceTaintRuleOutcome.NotServed, (await writer.RemoveAsync(Gpu0, CancellationToken.None)).Outcome);
        Assert.Null(t.Server.Catalog.Find("resource.k8s.io", t.Server.Profile.DeviceTaintRuleVersion ?? "v1alpha3", "devicetaintrules"));
    }

    [Theory]
    [InlineData("1.32", null)]
    [InlineData("1.33", "v1alpha3")]
    [InlineData("1.34", "v1alpha3")]
    [InlineData("1.35", "v1alpha3")]
    [InlineData("1.36", "v1beta2")]
    public async Task When_enabled_each_release_serves_devicetaintrules_at_its_own_version(string kubernetes, string? expected)
    {
        await using var t = await StartAsync(kubernetes);
        using var client = Client(t);
        var support = await new DeviceTaintRuleWriter(client).DiscoverAsync(CancellationToken.None);
        Assert.Equal(expected, support.Version);

        var (_, group) = await t.GetAsync("/apis/resource.k8s.io");
        var versions = group["versions"]!.AsArray().Select(v => v!["version"]!.GetValue<string>()).ToList();
        if (expected is not null)
        {
            Assert.Contains(expected, versions);
        }

        // The DRA version negotiation is not disturbed by an alpha version that carries only DeviceTaintRule.
        Assert.Equal(t.Server.Profile.ResourceApiVersions[0], ResourceApiDiscovery.Select(versions)!.Value.ToWire());
        Assert.DoesNotContain("v1alpha3", versions.Take(t.Server.Profile.ResourceApiVersions.Count));
    }

    [Theory]
    [InlineData("1.33")]
    [InlineData("1.35")]
    [InlineData("1.36")]
    public async Task Apply_is_idempotent_rewrites_another_taint_and_remove_deletes(string kubernetes)
    {
        await using var t = await StartAsync(kubernetes);
        using var client = Client(t);
        var writer = new DeviceTaintRuleWriter(client);

        var applied = await writer.ApplyAsync(Gpu0, Key, "scrub of gpu-0 failed: 3 bytes non-zero", CancellationToken.None);
        Assert.Equal(DeviceTaintRuleOutcome.Applied, applied.Outcome);
        Assert.Equal($"resource.k8s.io/{t.Server.Profile.DeviceTaintRuleVersion}", applied.ApiVersion);

        var stored = await client.GetAsync(KubeResource.DeviceTaintRules(t.Server.Profile.DeviceTaintRuleVersion!), null, applied.Name, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal("""{"driver":"gpu.nvidia.com","pool":"node-a","device":"gpu-0"}""", stored["spec"]!["deviceSelector"]!.ToJsonString());
        Assert.Equal(Key, stored["spec"]!["taint"]!["key"]!.GetValue<string>());
        Assert.Equal("NoSchedule", stored["spec"]!["taint"]!["effect"]!.GetValue<string>());
        Assert.NotNull(stored["spec"]!["taint"]!["timeAdded"]);
        Assert.Equal("scrub of gpu-0 failed: 3 bytes non-zero", stored["metadata"]!["annotations"]![DeviceTaintRuleWriter.ReasonAnnotation]!.GetValue<string>());

        Assert.Equal(DeviceTaintRuleOutcome.Unchanged, (await writer.ApplyAsync(Gpu0, Key, "again", CancellationToken.None)).Outcome);
        var updated = await writer.ApplyAsync(Gpu0, "securedra.io/vram-dirty", "dirty", CancellationToken.None);
        Assert.Equal(DeviceTaintRuleOutcome.Updated, updated.Outcome);
        Assert.Equal(applied.Name, updated.Name);

        Assert.Equal(DeviceTaintRuleOutcome.Removed, (await writer.RemoveAsync(Gpu0, CancellationToken.None)).Outcome);
        Assert.Null(await client.GetAsync(KubeResource.DeviceTaintRules(t.Server.Profile.DeviceTaintRuleVersion!), null, applied.Name, CancellationToken.None));
        Assert.Equal(DeviceTaintRuleOutcome.Removed, (await writer.RemoveAsync(Gpu0, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task A_second_writer_after_a_restart_finds_the_same_rule()
    {
        await using var t = await StartAsync("1.36");
        using var client = Client(t);
        Assert.Equal(DeviceTaintRuleOutcome.Applied, (await new DeviceTaintRuleWriter(client).ApplyAsync(Gpu0, Key, "x", CancellationToken.None)).Outcome);
        Assert.Equal(DeviceTaintRuleOutcome.Unchanged, (await new DeviceTaintRuleWriter(client).ApplyAsync(Gpu0, Key, "x", CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task A_rule_with_the_same_name_that_securedra_did_not_write_is_left_alone()
    {
        await using var t = await StartAsync("1.36");
        using var client = Client(t);
        var name = DeviceTaintRuleNames.For(Gpu0);
        await t.CreateAsync("/apis/resource.k8s.io/v1beta2/devicetaintrules",
            "{\"apiVersion\":\"resource.k8s.io/v1beta2\",\"kind\":\"DeviceTaintRule\",\"metadata\":{\"name\":\"" + name + "\"},"
            + "\"spec\":{\"deviceSelector\":{\"driver\":\"gpu.nvidia.com\"},\"taint\":{\"key\":\"admin/maintenance\",\"effect\":\"NoExecute\"}}}");
        var writer = new DeviceTaintRuleWriter(client);
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.ApplyAsync(Gpu0, Key, "x", CancellationToken.None));
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.RemoveAsync(Gpu0, CancellationToken.None));
        Assert.NotNull(await client.GetAsync(KubeResource.DeviceTaintRules("v1beta2"), null, name, CancellationToken.None));
    }

    [Fact]
    public async Task A_refusal_by_the_api_server_is_reported_as_forbidden_not_thrown()
    {
        await using var t = await StartAsync("1.36");
        using var client = Client(t);
        var writer = new DeviceTaintRuleWriter(client);
        await writer.DiscoverAsync(CancellationToken.None);
        t.Server.Faults.Add(new FaultRule { Status = 403, PathPrefix = "/apis/resource.k8s.io/v1beta2/devicetaintrules", Method = "POST" });
        var result = await writer.ApplyAsync(Gpu0, Key, "x", CancellationToken.None);
        Assert.Equal(DeviceTaintRuleOutcome.Forbidden, result.Outcome);
        Assert.False(result.Succeeded);
    }

    [Fact]
    public async Task A_resource_that_disappears_after_discovery_is_reported_not_served_and_discovered_again()
    {
        await using var t = await StartAsync("1.36");
        using var client = Client(t);
        var writer = new DeviceTaintRuleWriter(client);
        Assert.Equal("v1beta2", (await writer.DiscoverAsync(CancellationToken.None)).Version);
        t.Server.Faults.Add(new FaultRule { Status = 404, PathPrefix = "/apis/resource.k8s.io/v1beta2/devicetaintrules", Method = "POST" });
        Assert.Equal(DeviceTaintRuleOutcome.NotServed, (await writer.ApplyAsync(Gpu0, Key, "x", CancellationToken.None)).Outcome);
        Assert.Equal(DeviceTaintRuleOutcome.Applied, (await writer.ApplyAsync(Gpu0, Key, "x", CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task A_transient_server_error_is_thrown_for_the_caller_to_retry()
    {
        await using var t = await StartAsync("1.36");
        using var client = Client(t);
        var writer = new DeviceTaintRuleWriter(client);
        await writer.DiscoverAsync(CancellationToken.None);
        t.Server.Faults.Add(new FaultRule { Status = 500, PathPrefix = "/apis/resource.k8s.io/v1beta2/devicetaintrules", Method = "POST", Count = 10 });
        var ex = await Assert.ThrowsAsync<KubeApiException>(() => writer.ApplyAsync(Gpu0, Key, "x", CancellationToken.None));
        Assert.True(ex.IsTransient);
    }

    [Theory]
    [InlineData("1.34", true)]
    [InlineData("1.35", false)]
    public async Task The_class_and_cel_selectors_are_tombstoned_from_1_35(string kubernetes, bool accepted)
    {
        await using var t = await StartAsync(kubernetes);
        var (status, body) = await t.PostAsync("/apis/resource.k8s.io/v1alpha3/devicetaintrules", JsonNode.Parse("""
            {"apiVersion":"resource.k8s.io/v1alpha3","kind":"DeviceTaintRule","metadata":{"name":"by-class"},
             "spec":{"deviceSelector":{"deviceClassName":"gpu"},"taint":{"key":"k","effect":"NoSchedule"}}}
            """)!);
        Assert.True(accepted ? status == HttpStatusCode.Created : status == HttpStatusCode.BadRequest, $"{(int)status} {body.ToJsonString()}");
    }

    [Theory]
    [InlineData("""{"deviceSelector":{"device":"gpu-0"},"taint":{"key":"k","effect":"Evict"}}""", "spec.taint.effect")]
    [InlineData("""{"deviceSelector":{"device":"gpu-0"},"taint":{"effect":"NoSchedule"}}""", "spec.taint.key")]
    [InlineData("""{"deviceSelector":{"device":"GPU_0"},"taint":{"key":"k","effect":"NoSchedule"}}""", "spec.deviceSelector.device")]
    [InlineData("""{"deviceSelector":{"device":"gpu-0"}}""", "spec.taint")]
    public async Task The_local_server_validates_rules_like_the_real_one(string spec, string field)
    {
        await using var t = await StartAsync("1.36");
        var (status, body) = await t.PostAsync("/apis/resource.k8s.io/v1beta2/devicetaintrules", JsonNode.Parse(
            """{"apiVersion":"resource.k8s.io/v1beta2","kind":"DeviceTaintRule","metadata":{"name":"bad"},"spec":""" + spec + "}")!);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Contains(field, body.ToJsonString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "node-a", "gpu-0")]
    [InlineData(Driver, "", "gpu-0")]
    [InlineData(Driver, "node-a", "")]
    [InlineData(Driver, "node-a", "GPU-0")]
    [InlineData(Driver, "node-a", "gpu/0")]
    [InlineData(Driver, "node-a/", "gpu-0")]
    [InlineData("GPU.nvidia.com", "node-a", "gpu-0")]
    public void A_target_that_could_widen_the_selector_or_is_malformed_is_refused(string driver, string pool, string device)
    {
        Assert.Throws<ArgumentException>(() => new DeviceTaintRuleTarget(driver, pool, device));
    }

    [Fact]
    public void Rule_names_are_deterministic_bounded_dns_safe_and_distinct()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var targets = new List<DeviceTaintRuleTarget>
        {
            new(Driver, "a.b", "gpu-0"),
            new(Driver, "a-b", "gpu-0"),
            new(Driver, "a", "b-gpu-0"),
            new("other.example.com", "a.b", "gpu-0"),
            new(Driver, new string('n', 253), "gpu-0"),
            new(Driver, new string('n', 253), "gpu-1"),
            new(Driver, "pool/with/slashes", new string('d', 63)),
        };
        foreach (var target in targets)
        {
            var name = DeviceTaintRuleNames.For(target);
            Assert.Equal(name, DeviceTaintRuleNames.For(new DeviceTaintRuleTarget(target.Driver, target.Pool, target.Device)));
            Assert.InRange(name.Length, 1, 76);
            Assert.True(NameRules.IsDnsSubdomain(name), name);
            Assert.True(names.Add(name), $"{target} shares the name {name}");
        }
    }

    [Theory]
    [InlineData("securedra.io/scrub-failed", true)]
    [InlineData("plain", true)]
    [InlineData("", false)]
    [InlineData("bad key", false)]
    [InlineData("Upper.Case/x", false)]
    [InlineData("a/b/c", false)]
    public void Taint_keys_must_be_qualified_names(string key, bool valid)
    {
        Assert.Equal(valid, DeviceTaintRuleWriter.IsQualifiedName(key));
    }

    [Fact]
    public async Task A_hostile_reason_is_bounded_and_stripped_of_control_characters()
    {
        await using var t = await StartAsync("1.36");
        using var client = Client(t);
        var result = await new DeviceTaintRuleWriter(client).ApplyAsync(Gpu0, Key, "line1\nline2\u001b[31m" + new string('x', 5000), CancellationToken.None);
        var stored = await client.GetAsync(KubeResource.DeviceTaintRules("v1beta2"), null, result.Name, CancellationToken.None);
        var reason = stored!["metadata"]!["annotations"]![DeviceTaintRuleWriter.ReasonAnnotation]!.GetValue<string>();
        Assert.Equal(DeviceTaintRuleWriter.MaxReasonLength, reason.Length);
        Assert.DoesNotContain('\n', reason);
        Assert.DoesNotContain('\u001b', reason);
    }
}
