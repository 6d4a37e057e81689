using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.Proxy;
using SecureDra.KubeletPlugin.Tests.Pipeline;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.LocalCluster.Kubelet;

namespace SecureDra.KubeletPlugin.Tests.Proxy;

/// <summary>
/// The driver proxy between the emulated kubelet and a scripted vendor plugin, all over real Unix sockets: topology,
/// the vendor's misbehaviour, and the canary (tenant B never reads tenant A's bytes through the proxy).
/// </summary>
public class ProxyTests
{
    private static Task WaitUntilAsync(Func<bool> condition, string what, int timeoutMs = 10000) =>
        Poll.UntilAsync(condition, what, TimeSpan.FromMilliseconds(timeoutMs));

    /// <summary>The real securedra (the kit's launcher: the CLI's variables cleared), streams left to the test.</summary>
    private static System.Diagnostics.Process StartCli(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? env = null) =>
        System.Diagnostics.Process.Start(SecuredraProcess.StartInfo(args, env?.ToDictionary(p => p.Key, p => p.Value ?? "", StringComparer.Ordinal)))!;

    [Fact]
    public async Task Registers_with_the_kubelet_only_once_the_vendor_is_connected()
    {
        await using var h = await ProxyHarness.StartAsync(startVendor: false);

        // Not a sleep: the proxy's own registry passes (a scan and a probe, what its loop runs every probe interval) run
        // to completion with no vendor, so a proxy that published regardless would have published by now.
        await h.Gate.WaitUntilBoundAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(15));
        var registry = h.App!.Services.GetRequiredService<VendorRegistry>();
        await registry.ReconcileAsync(CancellationToken.None);
        await registry.ReconcileAsync(CancellationToken.None);
        Assert.False(h.Gate.IsPublished);
        Assert.False(File.Exists(h.VisibleRegistration));
        Assert.Empty(h.Kubelet.Plugins);

        await h.StartVendorAsync();
        var plugin = await h.RegisteredAsync();

        Assert.Equal(ProxyHarness.Driver, plugin.DriverName);
        Assert.StartsWith(h.StateDir + "/", plugin.Endpoint, StringComparison.Ordinal); // the proxy's socket, not the vendor's
        Assert.Contains(h.Vendor!.Notifications, n => n.Registered);
        Assert.False(Directory.Exists(Path.Combine(h.KubeletPlugins, ProxyHarness.Driver)), "the proxy kept out of <plugins>/<driver>/");
    }

    [Fact]
    public async Task Prepare_goes_through_the_vendor_and_release_scrubs_what_the_vendor_leaves_behind()
    {
        await using var h = await ProxyHarness.StartAsync();
        var kubelet = await h.RegisteredAsync();
        h.Claim(1, 0);
        var writes = h.Api.Writes;

        var prepared = await kubelet.PrepareAsync([ProxyHarness.K(1)]);

        var device = Assert.Single(prepared[TestClaims.Uid(1)].Devices);
        Assert.Equal("", prepared[TestClaims.Uid(1)].Error);
        Assert.Equal(ProxyHarness.VendorDevice(0), device.DeviceName);
        Assert.Equal([$"k8s.gpu.nvidia.com/claim={TestClaims.Uid(1)}-vgpu-a"], device.CdiDeviceIds);
        Assert.Equal(DeviceState.Prepared, h.Inventory.Get("gpu-0")!.State);

        // Tenant A writes; the vendor's release does not scrub, the proxy's does.
        h.Backend.WriteCanary("gpu-0");
        var canaryAtVendorRelease = false;
        h.Vendor!.OnUnprepare = () => canaryAtVendorRelease = h.Backend.HoldsCanary("gpu-0");
        var released = await kubelet.UnprepareAsync([ProxyHarness.K(1)]);

        Assert.Equal("", released[TestClaims.Uid(1)]);
        Assert.True(canaryAtVendorRelease, "the vendor was called first, before the scrub");
        Assert.False(h.Backend.HoldsCanary("gpu-0"));
        Assert.All(await File.ReadAllBytesAsync(h.Backend.VramPath("gpu-0")), b => Assert.Equal(0, b));
        Assert.True(h.Inventory.Get("gpu-0")!.IsOffered);
        Assert.Contains(TestClaims.Uid(1), h.Vendor.Unprepared);

        // No slices, no CDI specs of the proxy's own.
        Assert.Equal(writes, h.Api.Writes);
        Assert.False(Directory.Exists(Path.Combine(h.StateDir, "no-cdi")) && Directory.EnumerateFileSystemEntries(Path.Combine(h.StateDir, "no-cdi")).Any());
    }

    [Fact]
    public async Task A_repeated_prepare_gives_the_same_answer_without_asking_the_vendor_again()
    {
        await using var h = await ProxyHarness.StartAsync();
        var kubelet = await h.RegisteredAsync();
        h.Claim(1, 0, 1);

        var first = await kubelet.PrepareAsync([ProxyHarness.K(1)]);
        var second = await kubelet.PrepareAsync([ProxyHarness.K(1)]);

        Assert.Equal(1, h.Vendor!.PrepareCalls);
        Assert.Equal(
            first[TestClaims.Uid(1)].Devices.Select(d => (d.DeviceName, string.Join(",", d.CdiDeviceIds))),
            second[TestClaims.Uid(1)].Devices.Select(d => (d.DeviceName, string.Join(",", d.CdiDeviceIds))));
    }

    [Fact]
    public async Task A_claim_deleted_and_re_created_under_its_name_is_refused_in_the_node_daemons_words_and_the_vendor_never_hears_of_it()
    {
        await using var h = await ProxyHarness.StartAsync();
        var kubelet = await h.RegisteredAsync();
        h.Claim(1, 0); // the API server's tenant/claim-1 has UID 1; the kubelet asks for UID 2 under that name
        var stale = new KubeletClaim("tenant", "claim-1", TestClaims.Uid(2));

        var result = await kubelet.PrepareAsync([stale]);

        Assert.Equal(
            $"claim tenant/claim-1 was replaced (deleted and re-created): uid {TestClaims.Uid(1)} on the API server is not the requested {TestClaims.Uid(2)}",
            result[TestClaims.Uid(2)].Error);
        Assert.Equal(0, h.Vendor!.PrepareCalls);
        Assert.True(h.Inventory.Get("gpu-0")!.IsOffered);
    }

    [Theory]
    [InlineData(VendorScript.ForeignDevice, "is not allocated to this claim")]
    [InlineData(VendorScript.ForeignCdiId, "nvidia.com/gpu=all")]
    [InlineData(VendorScript.TooManyCdiIds, "cdiDeviceIDs: 9 IDs; 1 to 4 are accepted")]
    [InlineData(VendorScript.MissingClaim, "no entry for this claim")]
    [InlineData(VendorScript.HugeAnswer, "vendor Prepare failed: ResourceExhausted")]
    [InlineData(VendorScript.PrepareError, "vendor: device busy")]
    public async Task A_bad_vendor_answer_fails_the_claim_undoes_it_at_the_vendor_and_frees_the_gpu(VendorScript script, string expected)
    {
        await using var h = await ProxyHarness.StartAsync();
        var kubelet = await h.RegisteredAsync();
        h.Claim(1, 0);
        h.Vendor!.Script = script;

        var result = await kubelet.PrepareAsync([ProxyHarness.K(1)]);

        Assert.Contains(expected, result[TestClaims.Uid(1)].Error, StringComparison.Ordinal);
        Assert.Empty(result[TestClaims.Uid(1)].Devices);
        await WaitUntilAsync(() => h.Vendor.Unprepared.Contains(TestClaims.Uid(1)), "the proxy unprepared the claim at the vendor");
        Assert.True(h.Inventory.Get("gpu-0")!.IsOffered);
        Assert.Null(h.Journal.Get(TestClaims.Uid(1)));

        // The GPU is free for the next claim once the vendor behaves.
        h.Vendor.Script = VendorScript.Honest;
        h.Claim(2, 0);
        Assert.Equal("", (await kubelet.PrepareAsync([ProxyHarness.K(2)]))[TestClaims.Uid(2)].Error);
    }

    [Fact]
    public async Task An_answer_for_a_claim_nobody_asked_about_never_reaches_the_kubelet()
    {
        await using var h = await ProxyHarness.StartAsync();
        var kubelet = await h.RegisteredAsync();
        h.Claim(1, 0);
        h.Vendor!.Script = VendorScript.UnknownClaimUid;

        var result = await kubelet.PrepareAsync([ProxyHarness.K(1)]);

        Assert.Equal([TestClaims.Uid(1)], result.Keys);
        Assert.Equal("", result[TestClaims.Uid(1)].Error);
        Assert.Equal(1, h.Metrics.Counter("securedra_proxy_vendor_answer_refusals_total", "", "operation").Value("prepare"));
    }

    [Fact]
    public async Task A_hanging_vendor_fails_prepare_inside_the_deadline_and_frees_the_gpu()
    {
        await using var h = await ProxyHarness.StartAsync(proxy: p => p with { VendorCallTimeout = TimeSpan.FromMilliseconds(500) });
        var kubelet = await h.RegisteredAsync();
        h.Claim(1, 0);
        h.Vendor!.Script = VendorScript.Hang;

        var started = Environment.TickCount64;
        var result = await kubelet.PrepareAsync([ProxyHarness.K(1)]);

        Assert.Contains("no answer within 0.5 s", result[TestClaims.Uid(1)].Error, StringComparison.Ordinal);
        Assert.True(Environment.TickCount64 - started < 10_000);
        Assert.True(h.Inventory.Get("gpu-0")!.IsOffered);
    }

    [Fact]
    public async Task A_vendor_unprepare_error_is_returned_and_nothing_is_scrubbed_and_freed_behind_its_back()
    {
        await using var h = await ProxyHarness.StartAsync();
        var kubelet = await h.RegisteredAsync();
        h.Claim(1, 0);
        await kubelet.PrepareAsync([ProxyHarness.K(1)]);
        h.Backend.WriteCanary("gpu-0");
        h.Vendor!.Script = VendorScript.UnprepareError;
        var scrubs = h.Scrubber.Calls;

        var result = await kubelet.UnprepareAsync([ProxyHarness.K(1)]);

        Assert.Contains("MPS daemon still running", result[TestClaims.Uid(1)], StringComparison.Ordinal);
        Assert.Equal(scrubs, h.Scrubber.Calls);
        Assert.False(h.Inventory.Get("gpu-0")!.IsOffered);
        h.Claim(2, 0);
        Assert.Contains("prepared for another claim", (await kubelet.PrepareAsync([ProxyHarness.K(2)]))[TestClaims.Uid(2)].Error, StringComparison.Ordinal);

        h.Vendor.Script = VendorScript.Honest;
        Assert.Equal("", (await kubelet.UnprepareAsync([ProxyHarness.K(1)]))[TestClaims.Uid(1)]);
        Assert.False(h.Backend.HoldsCanary("gpu-0"));
        Assert.True(h.Inventory.Get("gpu-0")!.IsOffered);
    }

    [Fact]
    public async Task A_vendor_crash_in_unprepare_keeps_the_gpu_held_and_its_recreated_socket_is_registered_again()
    {
        await using var h = await ProxyHarness.StartAsync(proxy: p => p with { VendorCallTimeout = TimeSpan.FromSeconds(2) });
        var kubelet = await h.RegisteredAsync();
        h.Claim(1, 0);
        await kubelet.PrepareAsync([ProxyHarness.K(1)]);
        h.Backend.WriteCanary("gpu-0");
        h.Vendor!.Script = VendorScript.CrashInUnprepare;

        var result = await kubelet.UnprepareAsync([ProxyHarness.K(1)]);

        Assert.NotEqual("", result[TestClaims.Uid(1)]);
        Assert.True(h.Backend.HoldsCanary("gpu-0"));
        Assert.False(h.Inventory.Get("gpu-0")!.IsOffered);

        // The vendor comes back (its sockets re-created); the kubelet's retry goes through.
        var allocations = h.Vendor.Allocations.ToDictionary();
        await h.Vendor.DisposeAsync();
        await h.StartVendorAsync(v =>
        {
            foreach (var (k, a) in allocations)
            {
                v.Allocations[k] = a;
            }
        });
        await WaitUntilAsync(() => h.Vendor!.Notifications.Any(n => n.Registered), "the new vendor registration accepted");
        await WaitUntilAsync(() => kubelet.UnprepareAsync([ProxyHarness.K(1)]).GetAwaiter().GetResult()[TestClaims.Uid(1)] == "", "the retried Unprepare succeeds");

        Assert.False(h.Backend.HoldsCanary("gpu-0"));
        Assert.True(h.Inventory.Get("gpu-0")!.IsOffered);
    }

    [Fact]
    public async Task A_vendor_serving_only_v1beta1_is_used_on_v1beta1()
    {
        await using var h = await ProxyHarness.StartAsync(vendor: v => v.ServeV1 = false);
        var kubelet = await h.RegisteredAsync();
        h.Claim(1, 1);

        var result = await kubelet.PrepareAsync([ProxyHarness.K(1)]);

        Assert.Equal("", result[TestClaims.Uid(1)].Error);
        Assert.Equal(ProxyHarness.VendorDevice(1), Assert.Single(result[TestClaims.Uid(1)].Devices).DeviceName);
        Assert.Equal(DeviceState.Prepared, h.Inventory.Get("gpu-1")!.State);
    }

    [Theory]
    [InlineData("type")]
    [InlineData("name")]
    [InlineData("endpoint")]
    public async Task A_vendor_registration_that_fails_the_checks_is_refused_and_the_proxy_stays_unregistered(string field)
    {
        var outside = TempDir.Create();
        try
        {
            await using var h = await ProxyHarness.StartAsync(vendor: v =>
            {
                switch (field)
                {
                    case "type": v.Type = "CSIPlugin"; break;
                    case "name": v.DriverName = "gpu.example.com"; break;
                    case "endpoint": v.AnnouncedEndpoint = Path.Combine(PrepareOutside(outside), "dra.sock"); break;
                }
            });

            await WaitUntilAsync(() => !h.Vendor!.Notifications.IsEmpty, "the vendor was told");
            var (registered, error) = Assert.Single(h.Vendor!.Notifications);
            Assert.False(registered);
            Assert.StartsWith(field + ":", error, StringComparison.Ordinal);
            Assert.False(File.Exists(h.VisibleRegistration));
        }
        finally
        {
            outside.Dispose();
        }

        static string PrepareOutside(TempDir d)
        {
            File.WriteAllText(Path.Combine(d.Path, "dra.sock"), "");
            return d.Path;
        }
    }

    [Fact]
    public async Task The_proxy_refuses_to_start_beside_a_second_registration_of_its_driver_name()
    {
        var dir = TempDir.Create();
        try
        {
            // A vendor plugin left in the kubelet's own registry.
            await using var rival = await FakeVendorPlugin.StartAsync(Path.Combine(dir.Path, "reg"), Path.Combine(dir.Path, "rivalplugins"));
            var options = new KubeletPluginOptions
            {
                DriverName = ProxyHarness.Driver,
                NodeName = ProxyHarness.Node,
                KubeletRegistrarDirectoryPath = Path.Combine(dir.Path, "reg"),
                KubeletPluginsDirectoryPath = Path.Combine(dir.Path, "plugins"),
                DataDirectoryOverride = Path.Combine(dir.Path, "state"),
                CdiRoot = Path.Combine(dir.Path, "state", "no-cdi"),
                DeferRegistration = true,
            };
            await using var app = KubeletPluginHost.Build(options, b =>
            {
                b.Logging.ClearProviders();
                b.Services.AddSingleton(new ProxyOptions { VendorRegistryDirectory = Path.Combine(dir.Path, "vreg"), VendorPluginsDirectory = Path.Combine(dir.Path, "vplug") });
                b.Services.AddSingleton<KubeletRegistryGuard>();
                b.Services.AddHostedService(sp => sp.GetRequiredService<KubeletRegistryGuard>());
            });

            var ex = await Assert.ThrowsAsync<KubeletPluginConfigurationException>(() => app.StartAsync());
            Assert.Contains("already registers driver gpu.nvidia.com", ex.Message, StringComparison.Ordinal);
            Assert.True(File.Exists(rival.RegistrationSocket), "the proxy took nothing from the other registration");
        }
        finally
        {
            dir.Dispose();
        }
    }

    [Fact]
    public async Task The_registration_is_withdrawn_while_the_vendor_is_unreachable_and_published_again_when_it_returns()
    {
        await using var h = await ProxyHarness.StartAsync(proxy: p => p with { VendorUnreachableTimeout = TimeSpan.FromMilliseconds(300) });
        await h.RegisteredAsync();

        await h.Vendor!.StopAsync();
        await WaitUntilAsync(() => !File.Exists(h.VisibleRegistration) && h.Kubelet.Plugins.Count == 0, "the kubelet deregistered the proxy");
        Assert.Equal(1, h.Metrics.Counter("securedra_proxy_registration_withdrawals_total", "", "reason").Value("vendor_unreachable"));

        await h.StartVendorAsync();
        await h.RegisteredAsync();
        Assert.True(File.Exists(h.VisibleRegistration));
    }

    [Fact]
    public async Task Tenant_b_never_reads_tenant_a_bytes_after_a_failed_scrub()
    {
        await using var h = await ProxyHarness.StartAsync();
        var kubelet = await h.RegisteredAsync();
        h.Claim(1, 0);
        await kubelet.PrepareAsync([ProxyHarness.K(1)]);
        h.Backend.WriteCanary("gpu-0");
        h.Scrubber.Plan("gpu-0", ScrubBehavior.NotVerified, ScrubBehavior.NotVerified, ScrubBehavior.NotVerified);

        Assert.Equal("", (await kubelet.UnprepareAsync([ProxyHarness.K(1)]))[TestClaims.Uid(1)]);
        var target = new SecureDra.Kube.Taints.DeviceTaintRuleTarget(ProxyHarness.Driver, ProxyHarness.Node, ProxyHarness.VendorDevice(0));
        h.Claim(2, 0);
        var refused = await kubelet.PrepareAsync([ProxyHarness.K(2)]);
        if (refused[TestClaims.Uid(2)].Error == "")
        {
            // The retry loop verified a scrub in between: then the canary must be gone.
            Assert.False(h.Backend.HoldsCanary("gpu-0"));
        }
        else
        {
            Assert.Contains("gpu-0", refused[TestClaims.Uid(2)].Error, StringComparison.Ordinal);
        }

        // The withdrawal went out as a DeviceTaintRule on the vendor's device before Unprepare answered (unless the retry
        // had already verified a scrub); a verified retry lifts the refusal and the rule.
        Assert.True(h.Taints.Rules.ContainsKey(target) || h.Inventory.Get("gpu-0")!.IsOffered || refused[TestClaims.Uid(2)].Error == "");
        await WaitUntilAsync(() => h.Inventory.Get("gpu-0")!.IsOffered || h.Inventory.Get("gpu-0")!.State == DeviceState.Prepared, "a verified retry");
        await WaitUntilAsync(() => kubelet.PrepareAsync([ProxyHarness.K(2)]).GetAwaiter().GetResult()[TestClaims.Uid(2)].Error == "", "tenant B gets the GPU");
        Assert.False(h.Backend.HoldsCanary("gpu-0"));
        await WaitUntilAsync(() => !h.Taints.Rules.ContainsKey(target), "the rule is lifted");
    }

    [Fact]
    public async Task A_failed_scrub_publishes_a_device_taint_rule_on_the_vendor_device_before_unprepare_answers()
    {
        await using var h = await ProxyHarness.StartAsync();
        var kubelet = await h.RegisteredAsync();
        h.Claim(1, 1);
        await kubelet.PrepareAsync([ProxyHarness.K(1)]);
        h.Scrubber.Plan("gpu-1", [.. Enumerable.Repeat(ScrubBehavior.NotVerified, 1000)]);

        Assert.Equal("", (await kubelet.UnprepareAsync([ProxyHarness.K(1)]))[TestClaims.Uid(1)]);

        var target = new SecureDra.Kube.Taints.DeviceTaintRuleTarget(ProxyHarness.Driver, ProxyHarness.Node, ProxyHarness.VendorDevice(1));
        Assert.True(h.Taints.Rules.ContainsKey(target));
        Assert.DoesNotContain(new SecureDra.Kube.Taints.DeviceTaintRuleTarget(ProxyHarness.Driver, ProxyHarness.Node, ProxyHarness.VendorDevice(0)), h.Taints.Rules.Keys);
        h.Claim(2, 1);
        Assert.Contains("withdrawn", (await kubelet.PrepareAsync([ProxyHarness.K(2)]))[TestClaims.Uid(2)].Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"apiVersion\":\"resource.nvidia.com/v1beta1\",\"kind\":\"GpuConfig\",\"sharing\":{\"strategy\":\"MPS\"}}", "MPS")]
    [InlineData("{\"apiVersion\":\"resource.nvidia.com/v1beta1\",\"kind\":\"GpuConfig\",\"sharing\":{\"strategy\":\"TimeSlicing\",\"timeSlicingConfig\":{}}}", "interval")]
    [InlineData("{\"apiVersion\":\"resource.nvidia.com/v1beta1\",\"kind\":\"VfioDeviceConfig\"}", "VfioDeviceConfig")]
    [InlineData("{\"apiVersion\":\"resource.nvidia.com/v1beta1\",\"kind\":\"GpuConfig\",\"unknown\":1}", "unknown")]
    public async Task An_opaque_config_the_proxys_policy_rejects_never_reaches_the_vendor(string json, string expected)
    {
        await using var h = await ProxyHarness.StartAsync();
        var kubelet = await h.RegisteredAsync();
        h.Claim(1, [TestClaims.Opaque("FromClaim", json, "gpu")], 0);

        var result = await kubelet.PrepareAsync([ProxyHarness.K(1)]);

        Assert.Contains(expected, result[TestClaims.Uid(1)].Error, StringComparison.Ordinal);
        Assert.Equal(0, h.Vendor!.PrepareCalls);
        Assert.True(h.Inventory.Get("gpu-0")!.IsOffered);
    }

    [Fact]
    public async Task With_device_taint_rules_off_a_failed_scrub_writes_no_rule_and_the_refusal_still_holds()
    {
        await using var h = await ProxyHarness.StartAsync(proxy: p => p with { DeviceTaintRules = false });
        var kubelet = await h.RegisteredAsync();
        h.Claim(1, 0);
        await kubelet.PrepareAsync([ProxyHarness.K(1)]);
        h.Scrubber.Plan("gpu-0", [.. Enumerable.Repeat(ScrubBehavior.NotVerified, 1000)]);

        Assert.Equal("", (await kubelet.UnprepareAsync([ProxyHarness.K(1)]))[TestClaims.Uid(1)]);

        Assert.Empty(h.Taints.Rules);
        h.Claim(2, 0);
        Assert.Contains("withdrawn", (await kubelet.PrepareAsync([ProxyHarness.K(2)]))[TestClaims.Uid(2)].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mps_reaches_the_vendor_only_when_the_operator_allows_it()
    {
        const string mps = "{\"apiVersion\":\"resource.nvidia.com/v1beta1\",\"kind\":\"GpuConfig\",\"sharing\":{\"strategy\":\"MPS\"}}";
        await using var h = await ProxyHarness.StartAsync(policy: new SecureDra.Api.Config.Nvidia.NvidiaConfigPolicy(AllowMps: true));
        var kubelet = await h.RegisteredAsync();
        h.Claim(1, [TestClaims.Opaque("FromClaim", mps, "gpu")], 0);

        Assert.Equal("", (await kubelet.PrepareAsync([ProxyHarness.K(1)]))[TestClaims.Uid(1)].Error);
        Assert.Equal(1, h.Vendor!.PrepareCalls);
    }

    [Fact]
    public async Task An_accepted_config_and_one_for_another_driver_go_through()
    {
        await using var h = await ProxyHarness.StartAsync();
        var kubelet = await h.RegisteredAsync();
        h.Claim(1, [
            TestClaims.Opaque("FromClaim", "{\"apiVersion\":\"resource.nvidia.com/v1beta1\",\"kind\":\"GpuConfig\",\"sharing\":{\"strategy\":\"TimeSlicing\",\"timeSlicingConfig\":{\"interval\":\"Long\"}}}", "gpu"),
            new SecureDra.Kube.Resources.ClaimConfig(["gpu"], "other.example.com", "{\"anything\":true}", "FromClaim")], 0);

        var result = await kubelet.PrepareAsync([ProxyHarness.K(1)]);

        Assert.Equal("", result[TestClaims.Uid(1)].Error);
        Assert.Equal(1, h.Vendor!.PrepareCalls);
    }

    [Fact]
    public async Task A_restarted_proxy_keeps_prepared_claims_and_scrubs_them_on_release()
    {
        await using var h = await ProxyHarness.StartAsync();
        var kubelet = await h.RegisteredAsync();
        h.Claim(1, 0);
        var first = await kubelet.PrepareAsync([ProxyHarness.K(1)]);
        h.Backend.WriteCanary("gpu-0");

        await h.StopProxyAsync();
        await h.StartProxyAsync();
        kubelet = await h.RegisteredAsync();

        var again = await kubelet.PrepareAsync([ProxyHarness.K(1)]);
        Assert.Equal(first[TestClaims.Uid(1)].Devices.Single().CdiDeviceIds, again[TestClaims.Uid(1)].Devices.Single().CdiDeviceIds);
        Assert.False(h.Inventory.Get("gpu-0")!.IsOffered);
        Assert.Equal("", (await kubelet.UnprepareAsync([ProxyHarness.K(1)]))[TestClaims.Uid(1)]);
        Assert.False(h.Backend.HoldsCanary("gpu-0"));
    }

    [Fact]
    public async Task A_device_the_vendor_maps_to_no_gpu_of_this_node_is_refused_before_the_vendor_hears_of_it()
    {
        await using var h = await ProxyHarness.StartAsync();
        var kubelet = await h.RegisteredAsync();
        h.Api.PutClaim(TestClaims.Allocated(1, [new SecureDra.Kube.Resources.AllocationResult("gpu", ProxyHarness.Driver, ProxyHarness.Node, "vgpu-zz", false, null)], []));

        var result = await kubelet.PrepareAsync([ProxyHarness.K(1)]);

        Assert.Contains("is not in the vendor's ResourceSlices", result[TestClaims.Uid(1)].Error, StringComparison.Ordinal);
        Assert.Equal(0, h.Vendor!.PrepareCalls);
    }

    [Fact]
    public async Task The_real_process_registers_only_after_the_vendor_and_recovers_from_kill_9()
    {
        using var dir = TempDir.Create();
        var reg = Path.Combine(dir.Path, "reg");
        var vreg = Path.Combine(dir.Path, "vreg");
        var vplug = Path.Combine(dir.Path, "vplug");
        var state = Path.Combine(dir.Path, "state");
        await using var apiServer = await SecureDra.LocalCluster.ApiServer.LocalApiServer.StartAsync(new SecureDra.LocalCluster.ApiServer.LocalApiServerOptions { Listen = "127.0.0.1:0" }, CancellationToken.None);
        string[] args =
        [
            "proxy", "--kubelet-registrar-directory-path", reg, "--kubelet-plugins-directory-path", Path.Combine(dir.Path, "plugins"), "--state-directory-path", state,
            "--vendor-registry-directory-path", vreg, "--vendor-plugins-directory-path", vplug, "--vendor-unreachable-timeout", "1s",
            "--kubeconfig", apiServer.BaseAddress.ToString().TrimEnd('/'), "--gpu-backend", "simulated", "--simulated-gpus", "1", "--simulated-memory", "1Mi",
        ];
        var env = new Dictionary<string, string?> { ["NODE_NAME"] = "node-1" };
        await using var emulator = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = reg });
        emulator.Start();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        using var first = StartCli(args, env);
        _ = first.StandardError.ReadToEndAsync();
        _ = first.StandardOutput.ReadToEndAsync();
        try
        {
            await WaitUntilAsync(() => File.Exists(Path.Combine(reg, ".gpu.nvidia.com-reg.sock")), "the proxy bound its hidden registration socket", 30000);
            Assert.Empty(emulator.Plugins);

            await using var vendor = await FakeVendorPlugin.StartAsync(vreg, vplug);
            var plugin = await emulator.WaitForPluginAsync("gpu.nvidia.com", timeout.Token);
            Assert.Equal(Path.Combine(state, "dra.sock"), plugin.Endpoint);

            first.Kill(); // SIGKILL: no clean-up, the visible registration socket stays behind
            await first.WaitForExitAsync(timeout.Token);
            Assert.True(File.Exists(Path.Combine(reg, "gpu.nvidia.com-reg.sock")));

            using var second = StartCli(args, env);
            _ = second.StandardError.ReadToEndAsync();
            _ = second.StandardOutput.ReadToEndAsync();
            try
            {
                // The stale socket is replaced by the new process's, renamed into view once the vendor is connected.
                await WaitUntilAsync(() => emulator.Plugins.Values.Any(p => !ReferenceEquals(p, plugin)) || second.HasExited, "the restarted proxy registered again", 30000);
                Assert.False(second.HasExited);
                var again = emulator.Plugins.Values.Single();
                Assert.Equal(Path.Combine(state, "dra.sock"), again.Endpoint);
                var answer = await again.PrepareAsync([new KubeletClaim("tenant", "gone", "00000000-0000-4000-8000-000000000009")], timeout.Token);
                Assert.Contains("not found on the API server", answer["00000000-0000-4000-8000-000000000009"].Error, StringComparison.Ordinal);
            }
            finally
            {
                second.Kill();
            }
        }
        finally
        {
            if (!first.HasExited)
            {
                first.Kill();
            }
        }
    }

    [Fact]
    public async Task The_real_process_exits_1_beside_a_rival_registration()
    {
        using var dir = TempDir.Create();
        var reg = Path.Combine(dir.Path, "reg");
        await using var rival = await FakeVendorPlugin.StartAsync(reg, Path.Combine(dir.Path, "rival"));
        using var process = StartCli(
            ["proxy", "--kubelet-registrar-directory-path", reg, "--state-directory-path", Path.Combine(dir.Path, "state"),
             "--vendor-registry-directory-path", Path.Combine(dir.Path, "vreg"), "--vendor-plugins-directory-path", Path.Combine(dir.Path, "vplug"),
             "--kubeconfig", "http://127.0.0.1:9", "--gpu-backend", "simulated", "--simulated-gpus", "1", "--simulated-memory", "1Mi", "--log-format", "text"],
            new Dictionary<string, string?> { ["NODE_NAME"] = "node-1" });
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            Assert.Fail("still running after 60 s: " + await stderr);
        }

        Assert.Equal(1, process.ExitCode);
        Assert.Contains("securedra proxy: " + rival.RegistrationSocket + " in the kubelet's registry already registers driver gpu.nvidia.com", await stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("proxy --node-name n1 --vendor-unreachable-timeout soon", "--vendor-unreachable-timeout:")]
    [InlineData("proxy --node-name n1 --vendor-call-timeout 50s", "--vendor-call-timeout:")]
    [InlineData("proxy --node-name n1 --vendor-registry-directory-path relative", "must be absolute paths")]
    [InlineData("proxy --node-name n1 --state-directory-path /var/lib/kubelet/plugins/gpu.nvidia.com/x", "--state-directory-path:")]
    public async Task Bad_proxy_flags_give_one_line_and_exit_code_2(string commandLine, string expected)
    {
        using var process = StartCli(commandLine.Split(' '));
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(2, process.ExitCode);
        var line = Assert.Single((await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    private static async Task<SecureDra.Protocol.Health.V1Alpha1.NodeWatchResourcesResponse> NextHealthAsync(
        global::Grpc.Core.IAsyncStreamReader<SecureDra.Protocol.Health.V1Alpha1.NodeWatchResourcesResponse> stream,
        Func<SecureDra.Protocol.Health.V1Alpha1.NodeWatchResourcesResponse, bool> until)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (await stream.MoveNext(timeout.Token))
        {
            if (until(stream.Current))
            {
                return stream.Current;
            }
        }

        throw new InvalidOperationException("health stream ended");
    }

    private static SecureDra.Protocol.Health.V1Alpha1.HealthStatus Status(SecureDra.Protocol.Health.V1Alpha1.NodeWatchResourcesResponse r, int gpu) =>
        r.Devices.Single(d => d.Device.DeviceName == ProxyHarness.VendorDevice(gpu)).Health;

    [Fact]
    public async Task Without_vendor_health_the_kubelet_gets_the_proxys_health_keyed_by_the_vendors_devices()
    {
        await using var h = await ProxyHarness.StartAsync();
        var kubelet = await h.RegisteredAsync();
        Assert.Contains("v1alpha1.DRAResourceHealth", kubelet.OfferedServices);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var call = kubelet.WatchHealth(cts.Token);

        var first = await NextHealthAsync(call.ResponseStream, r => r.Devices.Count == 2);
        Assert.All(first.Devices, d => Assert.Equal(ProxyHarness.Node, d.Device.PoolName));
        Assert.Equal([ProxyHarness.VendorDevice(0), ProxyHarness.VendorDevice(1)], first.Devices.Select(d => d.Device.DeviceName).Order());
        Assert.NotEqual(SecureDra.Protocol.Health.V1Alpha1.HealthStatus.Unhealthy, Status(first, 0));

        h.App!.Services.GetRequiredService<SecureDra.KubeletPlugin.Health.DeviceHealthTracker>().Report("gpu-0", SecureDra.KubeletPlugin.Health.DeviceHealthStatus.Unhealthy, "Xid 79: fallen off the bus");
        var next = await NextHealthAsync(call.ResponseStream, r => r.Devices.Count == 2 && Status(r, 0) == SecureDra.Protocol.Health.V1Alpha1.HealthStatus.Unhealthy);
        Assert.Contains("Xid 79", next.Devices.Single(d => d.Device.DeviceName == ProxyHarness.VendorDevice(0)).Message, StringComparison.Ordinal);
        await cts.CancelAsync();
    }

    [Fact]
    public async Task Vendor_health_is_merged_and_the_proxys_unhealthy_wins()
    {
        await using var h = await ProxyHarness.StartAsync(vendor: v => v.Health = new()
        {
            [ProxyHarness.VendorDevice(0)] = (SecureDra.Protocol.Health.V1Alpha1.HealthStatus.Healthy, "vendor: fine"),
            [ProxyHarness.VendorDevice(1)] = (SecureDra.Protocol.Health.V1Alpha1.HealthStatus.Unhealthy, "vendor: ECC errors"),
        });
        var kubelet = await h.RegisteredAsync();
        h.App!.Services.GetRequiredService<SecureDra.KubeletPlugin.Health.DeviceHealthTracker>().Report("gpu-0", SecureDra.KubeletPlugin.Health.DeviceHealthStatus.Unhealthy, "Xid 48");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var call = kubelet.WatchHealth(cts.Token);

        var merged = await NextHealthAsync(call.ResponseStream, r => r.Devices.Count == 2
            && Status(r, 1) == SecureDra.Protocol.Health.V1Alpha1.HealthStatus.Unhealthy
            && Status(r, 0) == SecureDra.Protocol.Health.V1Alpha1.HealthStatus.Unhealthy);

        Assert.Contains("Xid 48", merged.Devices.Single(d => d.Device.DeviceName == ProxyHarness.VendorDevice(0)).Message, StringComparison.Ordinal);
        Assert.Equal("vendor: ECC errors", merged.Devices.Single(d => d.Device.DeviceName == ProxyHarness.VendorDevice(1)).Message);
        await cts.CancelAsync();
    }

    public static TheoryData<string> ProxyCrashPointNames => [.. ProxyCrashPoints.All];

    [Theory]
    [MemberData(nameof(ProxyCrashPointNames))]
    public async Task Tenant_b_never_reads_tenant_a_bytes_when_the_proxy_is_killed_at(string point)
    {
        await using var h = await ProxyHarness.StartAsync();
        var kubelet = await h.RegisteredAsync();
        h.Claim(1, 0);
        h.CrashAt(point);

        async Task<RegisteredDraPlugin> AfterCrashAsync()
        {
            if (!h.Crashed)
            {
                return kubelet;
            }

            // The crashed proxy's visible socket and the kubelet's entry for it can outlive the crash: wait for a
            // registration that is not the stale one, or the next call goes to a channel the emulator is disposing.
            var stale = kubelet;
            await h.RestartAfterCrashAsync();
            await WaitUntilAsync(
                () => h.Kubelet.Plugins.Count == 1 && !ReferenceEquals(h.Kubelet.Plugins.Values.Single(), stale) && File.Exists(h.VisibleRegistration),
                "re-registered");
            return await h.RegisteredAsync();
        }

        // A retry goes to whichever registration is current, as the kubelet's does: on a loaded machine the emulator
        // can still be processing the crashed proxy's socket going away after the new one appeared, and replaces (and
        // disposes) the registration the test holds. A call on a replaced registration fails and is retried.
        async Task<bool> RetryAsync(Func<RegisteredDraPlugin, Task<bool>> call)
        {
            try
            {
                kubelet = await h.RegisteredAsync();
                return await call(kubelet);
            }
            catch (Exception e) when (e is ObjectDisposedException or global::Grpc.Core.RpcException)
            {
                return false;
            }
        }

        // Tenant A's claim: the kubelet retries Prepare until it succeeds, as it does. The retries are bounded by a
        // deadline, not a count: after a crash the GPU waits for the scrub retry loop's backoff, which a loaded machine
        // stretches past any fixed number of back-to-back calls.
        var prepared = await kubelet.PrepareAsync([ProxyHarness.K(1)]);
        kubelet = await AfterCrashAsync();
        if (prepared[TestClaims.Uid(1)].Error != "")
        {
            await Poll.UntilAsync(
                () => RetryAsync(async k => (prepared = await k.PrepareAsync([ProxyHarness.K(1)]))[TestClaims.Uid(1)].Error == ""),
                "the kubelet's Prepare retry succeeds",
                () => prepared[TestClaims.Uid(1)].Error);
        }

        Assert.Equal("", prepared[TestClaims.Uid(1)].Error);
        h.Backend.WriteCanary("gpu-0");

        var released = await kubelet.UnprepareAsync([ProxyHarness.K(1)]);
        kubelet = await AfterCrashAsync();
        if (released[TestClaims.Uid(1)] != "")
        {
            await Poll.UntilAsync(
                () => RetryAsync(async k => (released = await k.UnprepareAsync([ProxyHarness.K(1)]))[TestClaims.Uid(1)] == ""),
                "the kubelet's Unprepare retry succeeds",
                () => released[TestClaims.Uid(1)]);
        }

        Assert.Equal("", released[TestClaims.Uid(1)]);
        Assert.False(h.Crashed);

        // Tenant B on the same GPU: whenever the proxy lets it in, tenant A's bytes are gone.
        h.Claim(2, 0);
        await Poll.UntilAsync(
            () => RetryAsync(async k =>
            {
                var result = (await k.PrepareAsync([ProxyHarness.K(2)]))[TestClaims.Uid(2)];
                if (result.Error == "")
                {
                    Assert.False(h.Backend.HoldsCanary("gpu-0"), "tenant B was given gpu-0 with tenant A's canary in it");
                }

                return result.Error == "";
            }),
            "tenant B gets gpu-0",
            TimeSpan.FromSeconds(10));
        Assert.Contains(TestClaims.Uid(1), h.Vendor!.Unprepared);
        Assert.Equal(1, h.Crashes); // the proxy really died at the point
    }
}
