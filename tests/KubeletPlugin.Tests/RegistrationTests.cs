using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.Registration;
using SecureDra.LocalCluster.Kubelet;
using SecureDra.Protocol.Registration;

namespace SecureDra.KubeletPlugin.Tests;

public class RegistrationTests
{
    private static readonly KubeletClaim Claim = new("default", "gpu-claim", "3f9c1a52-0d7e-4a61-9a8e-6c1b2f0d9e11");

    [Fact]
    public async Task GetInfo_answers_type_name_absolute_endpoint_and_versions_in_order()
    {
        await using var plugin = await TestPlugin.StartAsync();
        using var channel = plugin.RegistrationChannel();
        var info = await new SecureDra.Protocol.Registration.Registration.RegistrationClient(channel).GetInfoAsync(new InfoRequest(), deadline: DateTime.UtcNow.AddSeconds(1));
        Assert.Equal("DRAPlugin", info.Type);
        Assert.Equal("gpu.nvidia.com", info.Name);
        Assert.Equal(Path.Combine(plugin.Options.KubeletPluginsDirectoryPath, "gpu.nvidia.com", "dra.sock"), info.Endpoint);
        Assert.True(Path.IsPathFullyQualified(info.Endpoint));
        Assert.Equal(["v1.DRAPlugin", "v1beta1.DRAPlugin"], info.SupportedVersions);
        Assert.DoesNotContain("v1alpha1.DRAResourceHealth", info.SupportedVersions);
    }

    [Fact]
    public async Task Advertised_versions_come_from_DI()
    {
        await using var plugin = await TestPlugin.StartAsync(configure: b => b.Services.AddSingleton(AdvertisedService.DraResourceHealthV1Alpha1));
        using var channel = plugin.RegistrationChannel();
        var info = await new SecureDra.Protocol.Registration.Registration.RegistrationClient(channel).GetInfoAsync(new InfoRequest());
        Assert.Equal(["v1.DRAPlugin", "v1beta1.DRAPlugin", "v1alpha1.DRAResourceHealth"], info.SupportedVersions);
    }

    [Theory]
    [InlineData("1.32", "v1beta1.DRAPlugin")]
    [InlineData("1.33", "v1beta1.DRAPlugin")]
    [InlineData("1.34", "v1.DRAPlugin")]
    [InlineData("1.35", "v1.DRAPlugin")]
    [InlineData("1.36", "v1.DRAPlugin")]
    public async Task Emulated_kubelet_registers_and_prepares_on_the_version_it_picks(string kubelet, string expectedService)
    {
        var profile = KubeletProfile.ForVersion(kubelet);
        await using var plugin = await TestPlugin.StartAsync(http: true);
        await using var emulator = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = plugin.Options.KubeletRegistrarDirectoryPath, Profile = profile });
        emulator.Start();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var registered = await emulator.WaitForPluginAsync("gpu.nvidia.com", timeout.Token);
        Assert.Equal(expectedService, registered.Service);
        Assert.Equal(plugin.Layout.DraSocketPath, registered.Endpoint);

        var empty = await registered.PrepareAsync([], timeout.Token);
        Assert.Empty(empty);

        var prepared = await registered.PrepareAsync([Claim], timeout.Token);
        Assert.Equal(NotImplementedClaimPipeline.Message, Assert.Single(prepared, e => e.Key == Claim.Uid).Value.Error);
        var unprepared = await registered.UnprepareAsync([Claim], timeout.Token);
        Assert.Equal(NotImplementedClaimPipeline.Message, unprepared[Claim.Uid]);

        using var http = new HttpClient { BaseAddress = plugin.HttpBase };
        var ready = await http.GetAsync(new Uri("readyz", UriKind.Relative), timeout.Token);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Emulator_ignores_dot_files_and_deregisters_when_the_socket_goes()
    {
        await using var plugin = await TestPlugin.StartAsync();
        File.WriteAllText(Path.Combine(plugin.Options.KubeletRegistrarDirectoryPath, ".hidden-reg.sock"), "not a socket");
        await using var emulator = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = plugin.Options.KubeletRegistrarDirectoryPath });
        emulator.Start();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await emulator.WaitForPluginAsync("gpu.nvidia.com", timeout.Token);
        Assert.Equal([plugin.Layout.RegistrationSocketPath], emulator.Plugins.Keys);
        Assert.Empty(emulator.Failures);
        await plugin.StopAsync();
        Assert.False(File.Exists(plugin.Layout.RegistrationSocketPath));
        await Poll.UntilAsync(() => emulator.Plugins.Count == 0, "the kubelet forgets the stopped plugin");
    }

    [Fact]
    public async Task Rejected_registration_turns_readyz_red_and_the_plugin_keeps_serving()
    {
        await using var plugin = await TestPlugin.StartAsync(http: true);
        using var http = new HttpClient { BaseAddress = plugin.HttpBase };
        var pending = await http.GetAsync(new Uri("readyz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, pending.StatusCode);

        // A kubelet that only speaks a service the plugin does not offer refuses it and says why.
        var alien = new KubeletProfile("future", ["v9.DRAPlugin"], ServiceSelection.PluginOrder);
        await using var emulator = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = plugin.Options.KubeletRegistrarDirectoryPath, Profile = alien, GetInfoTimeout = TestTimeouts.DirectGetInfo });
        var ex = await Assert.ThrowsAsync<KubeletRegistrationException>(() => emulator.RegisterAsync(plugin.Layout.RegistrationSocketPath));
        Assert.Contains("v9.DRAPlugin", ex.Message, StringComparison.Ordinal);

        var red = await http.GetAsync(new Uri("readyz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, red.StatusCode);
        var body = JsonNode.Parse(await red.Content.ReadAsStringAsync())!;
        Assert.False(body["ready"]!.GetValue<bool>());
        Assert.Equal("rejected", body["registration"]!["state"]!.GetValue<string>());
        Assert.Contains("none of the versions", body["registration"]!["error"]!.GetValue<string>(), StringComparison.Ordinal);

        // Still serving: a good kubelet registers it afterwards and readiness recovers.
        await using var good = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = plugin.Options.KubeletRegistrarDirectoryPath, GetInfoTimeout = TestTimeouts.DirectGetInfo });
        var registered = await good.RegisterAsync(plugin.Layout.RegistrationSocketPath);
        Assert.Empty(await registered.PrepareAsync([]));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("readyz", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("healthz", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Readiness_checks_from_DI_are_reported()
    {
        await using var plugin = await TestPlugin.StartAsync(http: true, configure: b => b.Services.AddSingleton<IPluginReadinessCheck>(new FixedCheck()));
        await using var emulator = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = plugin.Options.KubeletRegistrarDirectoryPath });
        // Through the watcher, which retries a GetInfo that misses the 1 s deadline on a busy machine, as the kubelet does.
        emulator.Start();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await emulator.WaitForSocketAsync(plugin.Layout.RegistrationSocketPath, timeout.Token);
        using var http = new HttpClient { BaseAddress = plugin.HttpBase };
        var response = await http.GetAsync(new Uri("readyz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("checkpoint not loaded", body["checks"]!["checkpoint"]!["detail"]!.GetValue<string>());
    }

    private sealed class FixedCheck : IPluginReadinessCheck
    {
        public string Name => "checkpoint";

        public PluginReadiness Check() => new(false, "checkpoint not loaded");
    }
}
