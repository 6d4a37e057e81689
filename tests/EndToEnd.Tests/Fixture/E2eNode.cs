using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using SecureDra.LocalCluster.ApiServer;
using SecureDra.LocalCluster.Kubelet;

namespace SecureDra.EndToEnd.Tests.Fixture;

/// <summary>
/// One simulated GPU node, end to end: an API server (the real <c>securedra local-apiserver</c> process or the
/// in-process LocalApiServer), the real <c>securedra kubelet-plugin</c> as a separate process on simulated GPUs,
/// and the kubelet emulator talking to it over the real Unix sockets. Everything lives in one temp dir that
/// <see cref="DisposeAsync"/> deletes after killing the processes.
/// </summary>
internal sealed class E2eNode : IAsyncDisposable
{
    public const string Driver = "gpu.nvidia.com";
    public const string NodeName = "node-1";
    public const string Namespace = "default";

    private readonly NodeOptions _options;
    private readonly TempDir _dir;
    private readonly List<SecuredraProcess> _pastPlugins = [];
    private LocalApiServer? _inProcessServer;
    private SecuredraProcess? _apiServerProcess;
    private KubeletFixture? _kubelet;

    private E2eNode(NodeOptions options, TempDir dir)
    {
        _options = options;
        _dir = dir;
        Root = dir.Path;
        ResourceVersion = options.KubernetesVersion == "1.33" ? "v1beta2" : "v1";
    }

    public string Root { get; }
    public string RegistrarDir => Path.Combine(Root, "registry");
    public string PluginsDir => Path.Combine(Root, "plugins");
    public string CdiDir => Path.Combine(Root, "cdi");
    public string VramDir => Path.Combine(Root, "vram");
    public string CheckpointPath => Path.Combine(PluginsDir, Driver, "checkpoint.json");
    public string RegistrationSocket => Path.Combine(RegistrarDir, Driver + "-reg.sock");

    /// <summary>resource.k8s.io version the test objects are written in.</summary>
    public string ResourceVersion { get; }

    public Uri ApiBase { get; private set; } = null!;
    public HttpClient Api { get; private set; } = null!;

    /// <summary>Only when the API server runs in-process.</summary>
    public LocalApiServer? Server => _inProcessServer;

    public SecuredraProcess Plugin { get; private set; } = null!;
    public RegisteredDraPlugin Kubelet { get; private set; } = null!;
    public int HttpPort { get; private set; }

    public static async Task<E2eNode> StartAsync(NodeOptions? options = null)
    {
        options ??= new NodeOptions();
        var node = new E2eNode(options, TempDir.Create("sde"));
        try
        {
            await node.StartApiServerAsync();
            await node.CreateNodeAsync();
            foreach (var (device, faults) in options.GpuFaults)
            {
                node.SetGpuFaults(device, faults);
            }

            await node.StartPluginAsync(options.CrashAt);
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    // ------------------------------------------------------------------ processes

    private async Task StartApiServerAsync()
    {
        if (_options.ApiServerProcess)
        {
            (_apiServerProcess, ApiBase) = await SecuredraProcess.StartLocalApiServerAsync(["--kubernetes-version", _options.KubernetesVersion]);
        }
        else
        {
            _inProcessServer = await LocalApiServer.StartAsync(new LocalApiServerOptions { Listen = "127.0.0.1:0", FaultEndpoint = true, KubernetesVersion = _options.KubernetesVersion }, CancellationToken.None);
            ApiBase = new Uri(_inProcessServer.BaseAddress.ToString().TrimEnd('/') + "/");
        }

        Api = new HttpClient { BaseAddress = ApiBase, Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>The plugin's command line for this node (a fresh --http-endpoint port is picked by <see cref="StartPluginAsync"/>).</summary>
    public List<string> PluginArgs()
    {
        var args = new List<string>
        {
            "kubelet-plugin", "--node-name", NodeName, "--kubeconfig", ApiBase.ToString().TrimEnd('/'),
            "--kubelet-registrar-directory-path", RegistrarDir, "--kubelet-plugins-directory-path", PluginsDir,
            "--cdi-root", CdiDir, "--http-endpoint", $"127.0.0.1:{HttpPort}", "--log-format", "json",
            "--gpu-backend", "simulated", "--simulated-gpus", _options.Gpus.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--simulated-memory", _options.Memory, "--simulated-vram-dir", VramDir,
            "--scrub-retry-initial", "200ms",
        };
        args.AddRange(_options.ExtraPluginArgs);
        return args;
    }

    /// <summary>
    /// Starts the plugin process, registers it with a fresh emulated kubelet, and waits for /readyz. The HTTP port is
    /// one the kernel just gave out, proven the plugin's own through /proc; a port a parallel test took first makes
    /// the plugin exit, and it is started again on another.
    /// </summary>
    public async Task StartPluginAsync(string? crashAt = null, IReadOnlyList<string>? extraArgs = null)
    {
        var environment = new Dictionary<string, string>(_options.PluginEnvironment);
        if (crashAt is not null)
        {
            environment["SECUREDRA_CRASH_AT"] = crashAt;
        }

        for (var attempt = 1; ; attempt++)
        {
            HttpPort = FreshPort.Candidate();
            var args = PluginArgs();
            args.AddRange(extraArgs ?? []);
            Plugin = SecuredraProcess.Start("kubelet-plugin", args, environment, _options.PluginNoFileLimit);
            try
            {
                await Plugin.WaitUntilListeningAsync(HttpPort, TimeSpan.FromSeconds(60));
                break;
            }
            catch (PortTakenException) when (attempt < 5)
            {
                _pastPlugins.Add(Plugin);
            }
        }

        // A restarted kubelet plugin is met by a kubelet that re-registers it: one emulator per plugin process.
        if (_kubelet is not null)
        {
            await _kubelet.DisposeAsync();
        }

        _kubelet = KubeletFixture.Start(new KubeletEmulatorOptions { RegistrarDirectory = RegistrarDir, Profile = _options.Kubelet, CallTimeout = TimeSpan.FromSeconds(45) });
        Kubelet = await _kubelet.RegisterAsync(RegistrationSocket, Plugin, TimeSpan.FromSeconds(30), Diagnostics);
        await Poll.UntilAsync(
            async () =>
            {
                Assert.False(Plugin.HasExited, $"the plugin exited with {(Plugin.HasExited ? Plugin.ExitCode : 0)}\n{Plugin.Output}");
                using var response = await Api.GetAsync(new Uri($"http://127.0.0.1:{HttpPort}/readyz"));
                return response.StatusCode == HttpStatusCode.OK;
            },
            "the plugin's /readyz is 200",
            Diagnostics,
            TimeSpan.FromSeconds(30));
    }

    public async Task KillPluginAsync()
    {
        await Plugin.KillAsync();
        _pastPlugins.Add(Plugin);
    }

    /// <summary>Waits for the plugin process to die by itself (a crash point SIGKILLs it).</summary>
    public async Task WaitForPluginDeathAsync()
    {
        try
        {
            await Plugin.WaitForExitAsync(TimeSpan.FromSeconds(20));
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the plugin did not die at its crash point\n{Plugin.Output}");
        }

        _pastPlugins.Add(Plugin);
    }

    public async Task RestartPluginAsync(string? crashAt = null)
    {
        if (!Plugin.HasExited)
        {
            await KillPluginAsync();
        }

        await StartPluginAsync(crashAt);
    }

    public string Diagnostics()
    {
        var text = new StringBuilder();
        foreach (var past in _pastPlugins)
        {
            text.AppendLine("---- earlier kubelet-plugin process ----").Append(Tail(past.Output));
        }

        text.AppendLine("---- kubelet-plugin ----").Append(Tail(Plugin?.Output ?? ""));
        if (_apiServerProcess is not null)
        {
            text.AppendLine("---- local-apiserver ----").Append(Tail(_apiServerProcess.Output));
        }

        return text.ToString();
    }

    private static string Tail(string text) => text.Length > 12_000 ? "…" + text[^12_000..] : text;

    public async ValueTask DisposeAsync()
    {
        if (_kubelet is not null)
        {
            await _kubelet.DisposeAsync();
        }

        if (Plugin is not null)
        {
            await Plugin.DisposeAsync();
        }

        foreach (var past in _pastPlugins)
        {
            await past.DisposeAsync();
        }

        if (_apiServerProcess is not null)
        {
            await _apiServerProcess.DisposeAsync();
        }

        if (_inProcessServer is not null)
        {
            await _inProcessServer.DisposeAsync();
        }

        Api?.Dispose();
        _dir.Dispose();
    }

    // ------------------------------------------------------------------ kubelet calls

    public static KubeletClaim Ref(JsonObject claim) =>
        new(claim["metadata"]!["namespace"]!.GetValue<string>(), claim["metadata"]!["name"]!.GetValue<string>(), claim["metadata"]!["uid"]!.GetValue<string>());

    public async Task<KubeletPrepareResult> PrepareOneAsync(KubeletClaim claim)
    {
        var answer = await Kubelet.PrepareAsync([claim]);
        var (uid, result) = Assert.Single(answer);
        Assert.Equal(claim.Uid, uid);
        return result;
    }

    public async Task<KubeletPrepareResult> PrepareOkAsync(KubeletClaim claim)
    {
        var result = await PrepareOneAsync(claim);
        Assert.True(result.Error.Length == 0, $"Prepare of {claim.Name} failed: {result.Error}\n{Diagnostics()}");
        return result;
    }

    public async Task<string> UnprepareOneAsync(KubeletClaim claim)
    {
        var answer = await Kubelet.UnprepareAsync([claim]);
        var (uid, error) = Assert.Single(answer);
        Assert.Equal(claim.Uid, uid);
        return error;
    }

    public async Task UnprepareOkAsync(KubeletClaim claim)
    {
        var error = await UnprepareOneAsync(claim);
        Assert.True(error.Length == 0, $"Unprepare of {claim.Name} failed: {error}\n{Diagnostics()}");
    }

    // ------------------------------------------------------------------ API objects

    private string ResourcePath(string resource) => $"apis/resource.k8s.io/{ResourceVersion}/{resource}";

    public async Task<JsonObject> SendAsync(HttpMethod method, string path, JsonNode? body = null, HttpStatusCode expect = HttpStatusCode.OK)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        using var response = await Api.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(
            response.StatusCode == expect || (expect == HttpStatusCode.OK && response.StatusCode == HttpStatusCode.Created),
            $"{method} {path}: {(int)response.StatusCode} {text}");
        return (JsonObject)JsonNode.Parse(text)!;
    }

    /// <summary>Sends raw bytes (for bodies a JSON library would refuse to write); returns status and body.</summary>
    public async Task<(HttpStatusCode Status, string Body)> SendRawAsync(HttpMethod method, string path, byte[] body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await Api.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private Task CreateNodeAsync() =>
        SendAsync(HttpMethod.Post, "api/v1/nodes", new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Node",
            ["metadata"] = new JsonObject { ["name"] = NodeName, ["labels"] = new JsonObject { ["kubernetes.io/hostname"] = NodeName } },
        });

    public static JsonObject GpuConfig(string resetPolicy = "ZeroVRAMOnRelease") => new()
    {
        ["apiVersion"] = "resource.securedra.io/v1alpha1",
        ["kind"] = "GpuConfig",
        ["resetPolicy"] = resetPolicy,
    };

    /// <summary>A DeviceClass selecting this driver's devices, with an optional opaque config for it.</summary>
    public Task<JsonObject> CreateDeviceClassAsync(string name, JsonObject? config = null)
    {
        var spec = new JsonObject
        {
            ["selectors"] = new JsonArray(new JsonObject { ["cel"] = new JsonObject { ["expression"] = $"device.driver == \"{Driver}\"" } }),
        };
        if (config is not null)
        {
            spec["config"] = new JsonArray(new JsonObject { ["opaque"] = new JsonObject { ["driver"] = Driver, ["parameters"] = config } });
        }

        return SendAsync(HttpMethod.Post, ResourcePath("deviceclasses"), new JsonObject
        {
            ["apiVersion"] = $"resource.k8s.io/{ResourceVersion}",
            ["kind"] = "DeviceClass",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = spec,
        });
    }

    /// <summary>The body of a ResourceClaim with one request per name in <paramref name="requests"/> (count 1 each).</summary>
    public JsonObject ClaimBody(string name, string deviceClass, IReadOnlyList<string> requests, JsonNode? claimConfig)
    {
        var devices = new JsonObject
        {
            ["requests"] = new JsonArray([.. requests.Select(r => (JsonNode)new JsonObject
            {
                ["name"] = r,
                ["exactly"] = new JsonObject { ["deviceClassName"] = deviceClass, ["allocationMode"] = "ExactCount", ["count"] = 1 },
            })]),
        };
        if (claimConfig is not null)
        {
            devices["config"] = new JsonArray(new JsonObject
            {
                ["requests"] = new JsonArray([.. requests.Select(r => (JsonNode)r)]),
                ["opaque"] = new JsonObject { ["driver"] = Driver, ["parameters"] = claimConfig },
            });
        }

        return new JsonObject
        {
            ["apiVersion"] = $"resource.k8s.io/{ResourceVersion}",
            ["kind"] = "ResourceClaim",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = Namespace },
            ["spec"] = new JsonObject { ["devices"] = devices },
        };
    }

    public Task<JsonObject> CreateClaimAsync(string name, string deviceClass, IReadOnlyList<string>? requests = null, JsonNode? claimConfig = null) =>
        SendAsync(HttpMethod.Post, ResourcePath($"namespaces/{Namespace}/resourceclaims"), ClaimBody(name, deviceClass, requests ?? ["gpu"], claimConfig));

    public string ClaimPath(string name) => ResourcePath($"namespaces/{Namespace}/resourceclaims/{name}");

    public string ClaimsPath => ResourcePath($"namespaces/{Namespace}/resourceclaims");

    /// <summary>
    /// Allocates the claim as the scheduler would: PUT status with one result per (request, device) on this
    /// node's pool, the class config (FromClass) then the claim's own config (FromClaim), reservedFor a pod.
    /// </summary>
    public async Task<KubeletClaim> AllocateAsync(string claimName, IReadOnlyList<(string Request, string Device)> results, JsonNode? classConfig = null)
    {
        var claim = await SendAsync(HttpMethod.Get, ClaimPath(claimName));
        var config = new JsonArray();
        if (classConfig is not null)
        {
            config.Add(new JsonObject
            {
                ["source"] = "FromClass",
                ["requests"] = new JsonArray([.. results.Select(r => (JsonNode)r.Request).DistinctBy(n => n!.GetValue<string>())]),
                ["opaque"] = new JsonObject { ["driver"] = Driver, ["parameters"] = classConfig.DeepClone() },
            });
        }

        if (claim["spec"]?["devices"]?["config"] is JsonArray claimConfigs)
        {
            foreach (var entry in claimConfigs)
            {
                var copy = entry!.DeepClone().AsObject();
                copy["source"] = "FromClaim";
                config.Add(copy);
            }
        }

        claim["status"] = new JsonObject
        {
            ["allocation"] = new JsonObject
            {
                ["devices"] = new JsonObject
                {
                    ["results"] = new JsonArray([.. results.Select(r => (JsonNode)new JsonObject
                    {
                        ["request"] = r.Request, ["driver"] = Driver, ["pool"] = NodeName, ["device"] = r.Device,
                    })]),
                    ["config"] = config,
                },
                ["nodeSelector"] = new JsonObject
                {
                    ["nodeSelectorTerms"] = new JsonArray(new JsonObject
                    {
                        ["matchFields"] = new JsonArray(new JsonObject { ["key"] = "metadata.name", ["operator"] = "In", ["values"] = new JsonArray(NodeName) }),
                    }),
                },
            },
            ["reservedFor"] = new JsonArray(new JsonObject { ["resource"] = "pods", ["name"] = "pod-" + claimName, ["uid"] = Guid.NewGuid().ToString() }),
        };
        var updated = await SendAsync(HttpMethod.Put, ClaimPath(claimName) + "/status", claim);
        return Ref(updated);
    }

    /// <summary>Creates a claim with one request "gpu" and allocates <paramref name="device"/> to it.</summary>
    public async Task<KubeletClaim> ClaimDeviceAsync(string claimName, string device, string deviceClass = "gpu", JsonNode? claimConfig = null, JsonNode? classConfig = null)
    {
        await CreateClaimAsync(claimName, deviceClass, ["gpu"], claimConfig);
        return await AllocateAsync(claimName, [("gpu", device)], classConfig);
    }

    /// <summary>Devices of this node's slices for the driver, by name (throws on duplicates across slices).</summary>
    public async Task<Dictionary<string, JsonObject>> PublishedDevicesAsync()
    {
        var list = await SendAsync(HttpMethod.Get, ResourcePath($"resourceslices?fieldSelector=spec.nodeName%3D{NodeName}"));
        var devices = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var slice in list["items"]!.AsArray())
        {
            if (slice!["spec"]!["driver"]!.GetValue<string>() != Driver)
            {
                continue;
            }

            foreach (var device in slice["spec"]!["devices"]!.AsArray())
            {
                devices.Add(device!["name"]!.GetValue<string>(), device.AsObject());
            }
        }

        return devices;
    }

    public Task<JsonObject> SlicesAsync() => SendAsync(HttpMethod.Get, ResourcePath($"resourceslices?fieldSelector=spec.nodeName%3D{NodeName}"));

    public Task WaitForPublishedAsync(IReadOnlyCollection<string> expected, string why) =>
        Poll.UntilAsync(async () => (await PublishedDevicesAsync()).Keys.ToHashSet().SetEquals(expected), $"the slice holds exactly {string.Join(",", expected)} ({why})", Diagnostics);

    public IReadOnlyList<string> AllDevices => [.. Enumerable.Range(0, _options.Gpus).Select(i => $"gpu-{i}")];

    public async Task AddFaultAsync(JsonObject rule) => await SendAsync(HttpMethod.Post, "_securedra/faults", rule, HttpStatusCode.Created);

    public async Task ClearFaultsAsync() => await SendAsync(HttpMethod.Delete, "_securedra/faults");

    // ------------------------------------------------------------------ files

    public string VramFile(string device) => Path.Combine(VramDir, device + ".vram");

    public string CdiFile(string claimUid) => Path.Combine(CdiDir, $"k8s.{Driver}-claim_{claimUid}.json");

    public static string CdiId(string claimUid, string device) => $"k8s.{Driver}/claim={claimUid}-{device}";

    /// <summary>Writes the GPU's cross-process fault file atomically (temp + rename), as the simulated backend expects.</summary>
    public void SetGpuFaults(string device, JsonObject faults)
    {
        Directory.CreateDirectory(VramDir);
        var path = Path.Combine(VramDir, device + ".faults.json");
        var temp = path + ".tmp";
        File.WriteAllText(temp, faults.ToJsonString());
        File.Move(temp, path, overwrite: true);
    }

    public void ClearGpuFaults(string device) => File.Delete(Path.Combine(VramDir, device + ".faults.json"));

    public static readonly long[] CanaryOffsets = [4096, 1 << 20];

    public static readonly byte[] Canary = TenantCanary.Secret;

    /// <summary>The tenant's secret, written straight into the simulated VRAM at a few offsets.</summary>
    public void WriteCanary(string device) => TenantCanary.Write(VramFile(device), CanaryOffsets);

    public byte[] ReadCanarySpots(string device) => TenantCanary.ReadSpots(VramFile(device), CanaryOffsets, Canary.Length);

    public void AssertCanaryZeroed(string device) =>
        Assert.True(ReadCanarySpots(device).All(b => b == 0), $"{device}: the previous tenant's canary is still readable in VRAM\n{Diagnostics()}");

    /// <summary>Events about this Node with the given reason (the plugin's evidence and reports).</summary>
    public async Task<List<JsonObject>> NodeEventsAsync(string reason)
    {
        var list = await SendAsync(HttpMethod.Get, "api/v1/namespaces/default/events");
        return [.. list["items"]!.AsArray().Select(e => e!.AsObject()).Where(e => e["reason"]?.GetValue<string>() == reason && e["involvedObject"]?["kind"]?.GetValue<string>() == "Node")];
    }

    /// <summary>The plugin's /readyz: status code and JSON body.</summary>
    public async Task<(HttpStatusCode Status, string Body)> ReadyzAsync()
    {
        using var response = await Api.GetAsync(new Uri($"http://127.0.0.1:{HttpPort}/readyz"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<string> MetricsAsync()
    {
        using var response = await Api.GetAsync(new Uri($"http://127.0.0.1:{HttpPort}/metrics"));
        return await response.Content.ReadAsStringAsync();
    }
}
