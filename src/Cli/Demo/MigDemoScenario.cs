using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using SecureDra.Api;
using SecureDra.Cli.Commands;
using SecureDra.Kube.Client;
using SecureDra.LocalCluster.ApiServer;
using SecureDra.LocalCluster.Kubelet;
using SecureDra.Nvml.Backends.Mig;
using SecureDra.Nvml.Backends.Simulated;

namespace SecureDra.Cli.Demo;

/// <summary>
/// <c>securedra demo --mode mig</c>: one simulated H100-80GB in MIG mode with two instances an administrator created
/// (static MIG), the kubelet plugin with <c>--mig-mode static</c>, and two tenants, one per instance of the same GPU.
/// Tenant A's release runs the per-instance scrub (the real <c>securedra scrub-worker</c> child, confined to A's
/// instance): A's canary is gone and every byte of B's instance, B's canary included, is what it was. The simulated
/// driver does not zero on destroy or release, so what clears A's memory is SecureDra's own scrub.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class MigDemoScenario(DemoOptions options, TextWriter output)
{
    private const string NodeName = "demo-node";
    private const string CanaryB = "TENANT-B-SECRET: embeddings cache";
    private static readonly string DriverName = DriverConstants.DefaultDriverName;

    public async Task<int> RunCoreAsync(string work, CancellationToken ct)
    {
        var registrar = Directory.CreateDirectory(Path.Combine(work, "plugins_registry")).FullName;
        var plugins = Directory.CreateDirectory(Path.Combine(work, "plugins")).FullName;
        var cdi = Directory.CreateDirectory(Path.Combine(work, "cdi")).FullName;
        var vram = Directory.CreateDirectory(Path.Combine(plugins, DriverName, "simulated-vram")).FullName;
        var minors = Path.Combine(work, "mig-minors");
        var narrator = new DemoNarrator(output, totalSteps: 8);
        using var log = new DemoLog(work, FileShare.ReadWrite);

        narrator.Title($"SecureDra MIG demo: one simulated H100-80GB in MIG mode ({DemoScenario.Format(options.GpuMemoryBytes)} of simulated memory, 8 memory slices), two tenants on two instances, no cluster");
        narrator.Detail(options.WorkDirectory is null ? $"work dir {work} (logs in securedra.log; removed on exit unless the demo fails)" : $"work dir {work} (logs in securedra.log)");

        var simulated = new SimulatedGpuOptions { DeviceCount = 1, MemoryBytes = options.GpuMemoryBytes, VramDirectory = vram, FaultFiles = true };
        var sim = new SimulatedMigBackend(simulated);
        var parent = SimulatedDeviceCatalog.Device(0, options.GpuMemoryBytes);
        await using var apiServer = await DemoScenario.StartApiServerAsync(narrator, options, log.Factory, ct).ConfigureAwait(false);

        var (_, cluster) = await DemoCluster.CreateAsync(apiServer.BaseAddress.ToString().TrimEnd('/'), DriverName, NodeName, securedraConfig: true, ct).ConfigureAwait(false);

        var pluginOptions = DemoNode.PluginOptions(DriverName, NodeName, apiServer.BaseAddress.ToString().TrimEnd('/'), registrar, plugins, cdi);
        var components = DemoNode.Components(simulated).WithMigMode("static");
        components = components with { Pipeline = components.Pipeline with { MigMinorsPath = minors } };

        async Task<Microsoft.AspNetCore.Builder.WebApplication> StartPluginAsync(NodeComponents node)
        {
            var app = DemoNode.Build(pluginOptions, log.Logger, services => node.Register(services, pluginOptions));
            await app.StartAsync(ct).ConfigureAwait(false);
            return app;
        }

        // A first install proves nothing about memory: its devices are scrubbed before they are offered. With MIG on
        // a whole-GPU scrub cannot be verified (and this branch has no start-up scrub through instances yet), so the
        // node starts the way a real one does: SecureDra ran on the whole GPU before MIG mode was enabled.
        await narrator.StepAsync("SecureDra's first start on the node, gpu-0 still whole: its memory is scrubbed and verified, recorded in the checkpoint", async () =>
        {
            using (var file = new FileStream(Path.Combine(vram, "gpu-0.vram"), FileMode.Create))
            {
                file.SetLength(options.GpuMemoryBytes);
            }

            var whole = await StartPluginAsync(components.WithMigMode("off")).ConfigureAwait(false);
            await using (new DemoScenario.StopOnDispose(whole))
            {
                await DemoScenario.WaitAsync(() => cluster.PublishedDevicesAsync(ct), d => d.Any(x => x["name"]!.GetValue<string>() == "gpu-0"), "gpu-0 scrubbed and published", ct).ConfigureAwait(false);
            }

            narrator.Detail("gpu-0 verified clean and published; the plugin is stopped for the administrator's maintenance");
        }).ConfigureAwait(false);

        var (a, b) = await narrator.StepAsync("The administrator enables MIG mode on gpu-0 and creates two 3g.40gb instances (static MIG)", async () =>
        {
            SimulatedFaultFile.Write(vram, "gpu-0", new SimulatedFaults { MigEnabled = true });
            var first = await sim.CreateComputeInstanceAsync(parent, (await sim.CreateGpuInstanceAsync(parent, SimulatedMigProfiles.Profile3g, new MigPlacement(0, 4), ct).ConfigureAwait(false)).GpuInstanceId, ct).ConfigureAwait(false);
            var second = await sim.CreateComputeInstanceAsync(parent, (await sim.CreateGpuInstanceAsync(parent, SimulatedMigProfiles.Profile3g, new MigPlacement(4, 4), ct).ConfigureAwait(false)).GpuInstanceId, ct).ConfigureAwait(false);
            // What /proc/driver/nvidia-caps/mig-minors lists on a real node: the capability nodes Prepare hands the container.
            await File.WriteAllTextAsync(minors, string.Create(CultureInfo.InvariantCulture,
                $"config 1\nmonitor 2\ngpu0/gi{first.GpuInstanceId}/access 12\ngpu0/gi{first.GpuInstanceId}/ci0/access 13\ngpu0/gi{second.GpuInstanceId}/access 21\ngpu0/gi{second.GpuInstanceId}/ci0/access 22\n"), ct).ConfigureAwait(false);
            narrator.Table(
                ["GPU INSTANCE", "PROFILE", "MEMORY SLICES", "BYTES IN gpu-0.vram", "MIG UUID"],
                [.. new[] { first, second }.Select(i => (IReadOnlyList<string>)[
                    i.GpuInstanceId.ToString(CultureInfo.InvariantCulture), i.ProfileName, $"{i.Placement.Start}-{i.Placement.Start + i.Placement.Size - 1}",
                    Range(sim, i.Placement), i.Uuid ?? ""])]);
            narrator.Detail("the simulated driver does not zero memory on release: whatever clears it below is SecureDra's own scrub");
            return (first, second);
        }).ConfigureAwait(false);

        var plugin = await narrator.StepAsync("Start the kubelet plugin with --mig-mode static", async () =>
        {
            var app = await StartPluginAsync(components).ConfigureAwait(false);
            narrator.Detail($"GPU memory: {vram}/gpu-0.vram (a memory-mapped file; slice i = bytes [i x size/8, (i+1) x size/8))");
            narrator.Detail($"metrics: {DemoMetricsEndpoint.Url(app)}");
            return app;
        }).ConfigureAwait(false);

        await using var pluginLifetime = new DemoScenario.StopOnDispose(plugin);
        await using var kubelet = new KubeletEmulator(new KubeletEmulatorOptions { RegistrarDirectory = registrar, Profile = KubeletProfile.V1_34 }, TimeProvider.System, log.Factory.CreateLogger("kubelet-emulator"));
        RegisteredDraPlugin? registered = null;
        var names = await narrator.StepAsync("The kubelet registers the plugin; the two instances are published as NVIDIA's static MIG devices", async () =>
        {
            registered = await DemoScenario.RegisterAsync(kubelet, "plugin", ct).ConfigureAwait(false);
            var devices = await DemoScenario.WaitAsync(() => cluster.PublishedDevicesAsync(ct), d => d.Count(IsMig) == 2, "both MIG devices published", ct).ConfigureAwait(false);
            narrator.Table(
                ["DEVICE", "TYPE", "PROFILE", "UUID", "PARENT UUID", "MEMORY", "SLICES"],
                [.. devices.Select(d => (IReadOnlyList<string>)[
                    d["name"]!.GetValue<string>(), DemoCluster.Attribute(d, "type"), DemoCluster.Attribute(d, "profile"), DemoCluster.Attribute(d, "uuid"),
                    DemoCluster.Attribute(d, "parentUUID"), DemoCluster.Capacity(d, "memory"), Slices(d)])]);
            narrator.Detail(devices.Any(d => d["name"]!.GetValue<string>() == "gpu-0")
                ? "gpu-0 as a whole is published too"
                : "gpu-0 as a whole is not offered while it is partitioned (what a whole-GPU scrub covers under MIG is unknown)");
            var byUuid = devices.Where(IsMig).ToDictionary(d => DemoCluster.Attribute(d, "uuid"), d => d["name"]!.GetValue<string>(), StringComparer.Ordinal);
            return (A: byUuid[a.Uuid!], B: byUuid[b.Uuid!]);
        }).ConfigureAwait(false);
        var dra = registered!;

        var (claimA, claimB) = await narrator.StepAsync("Tenant A is allocated the first instance, tenant B the second; both claims are prepared", async () =>
        {
            var first = await PrepareAsync(narrator, cluster, dra, "tenant-a", "training-mig", names.A, cdi, options.Verbose, ct).ConfigureAwait(false);
            var second = await PrepareAsync(narrator, cluster, dra, "tenant-b", "inference-mig", names.B, cdi, options.Verbose, ct).ConfigureAwait(false);
            return (first, second);
        }).ConfigureAwait(false);

        var gpu0 = Path.Combine(vram, "gpu-0.vram");
        var (aOffset, aLength) = sim.ByteRange(a.Placement);
        var (bOffset, bLength) = sim.ByteRange(b.Placement);
        var aCanaries = DemoScenario.CanaryOffsets(aLength).Select(o => aOffset + o).ToList();
        var bCanaries = DemoScenario.CanaryOffsets(bLength).Select(o => bOffset + o).ToList();
        var bHash = await narrator.StepAsync("Each tenant writes a canary into its own instance's memory", async () =>
        {
            await DemoScenario.WriteCanaryAsync(gpu0, aCanaries, ct).ConfigureAwait(false);
            await DemoVram.WriteTextAsync(gpu0, bCanaries, CanaryB, ct).ConfigureAwait(false);
            narrator.Detail($"tenant A: \"{DemoScenario.Canary}\" at {aCanaries.Count} offsets in slices 0-3; read back {await DemoScenario.CountCanariesAsync(gpu0, aCanaries, ct).ConfigureAwait(false)}/{aCanaries.Count}");
            narrator.Detail($"tenant B: \"{CanaryB}\" at {bCanaries.Count} offsets in slices 4-7; read back {await DemoVram.CountTextAsync(gpu0, bCanaries, CanaryB, ct).ConfigureAwait(false)}/{bCanaries.Count}");
            var hash = await DemoVram.HashAsync(gpu0, bOffset, bLength, ct).ConfigureAwait(false);
            narrator.Detail($"SHA-256 of tenant B's instance memory ({DemoScenario.Format(bLength)}): {hash[..16]}…");
            return hash;
        }).ConfigureAwait(false);

        await narrator.StepAsync("Tenant A's pod ends: the claim is unprepared and A's instance, only A's, is scrubbed before the call returns", async () =>
        {
            var errors = await dra.UnprepareAsync([claimA], ct).ConfigureAwait(false);
            if (errors.TryGetValue(claimA.Uid, out var error) && error.Length > 0)
            {
                throw new InvalidOperationException($"unprepare failed: {error}");
            }

            narrator.Detail($"scrub: {await ScrubLogAsync(log.Path, a.Uuid!, ct).ConfigureAwait(false)}");
            narrator.Good($"tenant A's canary copies left in its instance: {await DemoScenario.CountCanariesAsync(gpu0, aCanaries, ct).ConfigureAwait(false)}; non-zero bytes in slices 0-3: {await DemoVram.CountNonZeroAsync(gpu0, aOffset, aLength, ct).ConfigureAwait(false)}");
            var hash = await DemoVram.HashAsync(gpu0, bOffset, bLength, ct).ConfigureAwait(false);
            narrator.Good($"tenant B's instance, still in use: canary {await DemoVram.CountTextAsync(gpu0, bCanaries, CanaryB, ct).ConfigureAwait(false)}/{bCanaries.Count} intact, SHA-256 {hash[..16]}… {(hash == bHash ? "unchanged" : "CHANGED")}");
            if (hash != bHash)
            {
                throw new InvalidOperationException("tenant B's memory changed while tenant A's instance was scrubbed");
            }

            var devices = await DemoScenario.WaitAsync(() => cluster.PublishedDevicesAsync(ct), d => d.Any(x => x["name"]!.GetValue<string>() == names.A), "A's instance published again", ct).ConfigureAwait(false);
            narrator.Detail($"{names.A} is verified clean and offered again ({devices.Count(IsMig)} MIG devices in the slice)");
        }).ConfigureAwait(false);

        output.WriteLine();
        output.WriteLine($"Done in {narrator.Elapsed.TotalSeconds:F1} s: tenant A's instance was scrubbed on its own; tenant B's neighbouring instance was not touched.");
        // Tenant B's claim stays prepared: its instance's bytes are left in the work dir as evidence (--work-dir keeps them).
        output.WriteLine($"Tenant B's claim {claimB.Namespace}/{claimB.Name} stays prepared; with --work-dir its instance's memory stays in gpu-0.vram for inspection.");
        if (options.KeepRunning)
        {
            await DemoKeepRunning.WaitAsync(output, "the API server and plugin", apiServer.BaseAddress, "plugin", DemoMetricsEndpoint.Url(plugin), ct).ConfigureAwait(false);
        }

        await plugin.StopAsync(CancellationToken.None).ConfigureAwait(false);
        return 0;
    }

    private static bool IsMig(JsonObject device) => DemoCluster.Attribute(device, "type") == "mig";

    private static string Slices(JsonObject device)
    {
        var slices = Enumerable.Range(0, MigPlacement.MemorySliceCount).Where(i => device["capacity"]?[$"memorySlice{i}"] is not null).ToList();
        return slices.Count == 0 ? "" : $"{slices[0]}-{slices[^1]}";
    }

    private static string Range(SimulatedMigBackend sim, MigPlacement placement)
    {
        var (offset, length) = sim.ByteRange(placement);
        return string.Create(CultureInfo.InvariantCulture, $"0x{offset:x}-0x{offset + length - 1:x}");
    }

    private static async Task<KubeletClaim> PrepareAsync(DemoNarrator narrator, DemoCluster cluster, RegisteredDraPlugin dra, string ns, string claim, string device, string cdi, bool verbose, CancellationToken ct)
    {
        var (name, uid) = await cluster.CreateAllocatedClaimAsync(ns, claim, device, ct).ConfigureAwait(false);
        await DemoScenario.PrepareAsync(dra, ns, name, uid, ct).ConfigureAwait(false);
        var spec = JsonNode.Parse(await File.ReadAllTextAsync(Directory.GetFiles(cdi).Single(f => f.Contains(uid, StringComparison.Ordinal)), ct).ConfigureAwait(false))!;
        var nodes = spec["devices"]!.AsArray().SelectMany(d => d!["containerEdits"]?["deviceNodes"]?.AsArray() ?? []).Select(n => n?["path"]?.GetValue<string>());
        narrator.Detail($"{ns}/{name} on {device}: device nodes {string.Join(", ", nodes)}");
        if (verbose)
        {
            narrator.Detail(DemoScenario.Indented(spec.ToJsonString()));
        }
        return new KubeletClaim(ns, name, uid);
    }

    /// <summary>The plugin's own record of the instance scrub (log event 6300, MigInstanceScrubbed).</summary>
    private static async Task<string> ScrubLogAsync(string logPath, string uuid, CancellationToken ct)
    {
        return await DemoScenario.WaitAsync(async () =>
        {
            using var reader = new StreamReader(new FileStream(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            string? found = null;
            while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
            {
                if (line.Contains("Scrubbed MIG instance", StringComparison.Ordinal) && line.Contains(uuid, StringComparison.Ordinal))
                {
                    found = JsonNode.Parse(line)?["@m"]?.GetValue<string>();
                }
            }

            return found;
        }, m => m is not null, "the MigInstanceScrubbed log event", ct).ConfigureAwait(false) ?? "";
    }
}
