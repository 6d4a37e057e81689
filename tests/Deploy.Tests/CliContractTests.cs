using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using SecureDra.Deploy.Tests.Infrastructure;
using Kit = SecureDra.TestKit;

namespace SecureDra.Deploy.Tests;

/// <summary>
/// The chart and the CLI were written apart; these tests hold them to one contract by running the real
/// <c>securedra</c> binary: every flag and environment variable the rendered workloads pass is one the subcommand
/// has, the probe and webhook paths are ones the processes serve, and the auditor finds nothing in the manifests we
/// ship (and does find a deliberately broken copy).
/// </summary>
[Collection(ChartCollection.Name)]
public sealed class CliContractTests(RenderedChart chart)
{
    /// <summary>Environment variables the chart sets for something other than the CLI's flags, and who reads them.</summary>
    private static readonly Dictionary<string, string> NotCliFlags = new(StringComparer.Ordinal)
    {
        ["NVIDIA_VISIBLE_DEVICES"] = "the NVIDIA container runtime (GPU injection)",
        ["NVIDIA_DRIVER_CAPABILITIES"] = "the NVIDIA container runtime (which driver libraries are mounted)",
        ["POD_NAME"] = "the controller's leader-election identity (ControllerCommand reads it directly)",
    };

    public static TheoryData<string> Workloads => new() { "DaemonSet", "Deployment" };

    private IEnumerable<JsonNode> Containers(string kind) =>
        chart.Single(kind).At("spec.template.spec").Items("initContainers").Concat(chart.Single(kind).At("spec.template.spec").Items("containers"));

    private static string Subcommand(JsonNode container) => Assert.IsType<string>(container.Strings("args").FirstOrDefault(), exactMatch: false);

    private static Dictionary<string, string> Flags(JsonNode container) =>
        container.Strings("args").Skip(1).ToDictionary(a => a.Split('=', 2)[0], a => a.Contains('=', StringComparison.Ordinal) ? a.Split('=', 2)[1] : "", StringComparer.Ordinal);

    [Theory]
    [MemberData(nameof(Workloads))]
    public void Every_flag_the_chart_passes_exists_in_the_subcommands_help(string kind)
    {
        foreach (var container in Containers(kind))
        {
            var sub = Subcommand(container);
            var help = SecuredraCli.HelpOf(sub);
            var args = container.Strings("args").Skip(1).ToList();
            Assert.All(args, a => Assert.True(a.StartsWith("--", StringComparison.Ordinal) && a.Contains('=', StringComparison.Ordinal),
                $"{kind} container {container.Str("name")}: argument '{a}' is not --flag=value (a separate value would be read as a positional argument)"));
            var unknown = args.Select(a => a.Split('=', 2)[0]).Where(f => !help.Flags.Contains(f)).ToList();
            Assert.True(unknown.Count == 0,
                $"{kind} container {container.Str("name")} passes flags that `securedra {sub} --help` does not list: {string.Join(", ", unknown)}\nThe CLI has: {string.Join(", ", help.Flags.Order(StringComparer.Ordinal))}");
            Assert.Equal(args.Count, args.Select(a => a.Split('=', 2)[0]).Distinct(StringComparer.Ordinal).Count());
        }
    }

    [Theory]
    [MemberData(nameof(Workloads))]
    public void Every_env_var_the_chart_sets_is_one_the_cli_reads_or_has_a_named_other_reader(string kind)
    {
        foreach (var container in Containers(kind))
        {
            var sub = Subcommand(container);
            var help = SecuredraCli.HelpOf(sub);
            foreach (var name in container.Items("env").Select(e => e.Str("name")))
            {
                Assert.True(help.EnvironmentVariables.Contains(name) || NotCliFlags.ContainsKey(name),
                    $"{kind} sets {name}, which `securedra {sub} --help` does not read (misspelt?). It reads: {string.Join(", ", help.EnvironmentVariables.Order(StringComparer.Ordinal))}");
            }
        }
    }

    [Fact]
    public void The_nvidia_runtime_variables_ask_for_every_gpu_with_compute_and_utility_only()
    {
        var pluginEnv = Assert.Single(Containers("DaemonSet")).Items("env").ToDictionary(e => e.Str("name"), e => e, StringComparer.Ordinal);
        Assert.Equal("all", pluginEnv["NVIDIA_VISIBLE_DEVICES"].Str("value"));
        Assert.Equal("compute,utility", pluginEnv["NVIDIA_DRIVER_CAPABILITIES"].Str("value"));
    }

    [Fact]
    public void Kubelet_plugin_gets_its_node_name_and_pod_uid_from_the_downward_api_and_the_nvidia_backend_explicitly()
    {
        var plugin = Assert.Single(Containers("DaemonSet"));
        var help = SecuredraCli.HelpOf("kubelet-plugin");
        var env = plugin.Items("env").ToDictionary(e => e.Str("name"), e => e, StringComparer.Ordinal);
        // --node-name is required by the CLI; the chart supplies it through the variable the CLI names for it.
        Assert.Contains("NODE_NAME", help.EnvironmentVariables);
        Assert.Equal("spec.nodeName", env["NODE_NAME"].Str("valueFrom.fieldRef.fieldPath"));
        Assert.Contains("POD_UID", help.EnvironmentVariables);
        Assert.Equal("metadata.uid", env["POD_UID"].Str("valueFrom.fieldRef.fieldPath"));
        Assert.Equal("nvidia", Flags(plugin)["--gpu-backend"]);
        Assert.Equal("kubelet-plugin", Subcommand(plugin));
        Assert.Equal("controller", Subcommand(Assert.Single(Containers("Deployment"))));
    }

    [Theory]
    [MemberData(nameof(Workloads))]
    public void Probes_hit_the_port_of_the_http_endpoint_flag(string kind)
    {
        var container = Assert.Single(Containers(kind));
        var port = HttpEndpointPort(container);
        foreach (var probe in new[] { "livenessProbe", "readinessProbe" })
        {
            var get = container.At($"{probe}.httpGet");
            Assert.NotNull(get);
            Assert.Equal(port, ContainerPort(container, get.At("port")!));
            Assert.Null(get.At("scheme"));
        }

        Assert.Equal("/healthz", container.Str("livenessProbe.httpGet.path"));
        Assert.Equal("/readyz", container.Str("readinessProbe.httpGet.path"));
    }

    [Fact]
    public void Webhook_service_and_configuration_point_at_the_controllers_webhook_listener()
    {
        var controller = Assert.Single(Containers("Deployment"));
        var listen = Flags(controller)["--webhook-listen"];
        var service = chart.OfKind("Service").Single(s => s.Str("metadata.name") == chart.Single("ValidatingWebhookConfiguration").Items("webhooks").Single().Str("clientConfig.service.name"));
        var servicePort = service.Items("spec.ports").Single(p => (int)p.At("port")! == (int)chart.Single("ValidatingWebhookConfiguration").Items("webhooks").Single().At("clientConfig.service.port")!);
        Assert.Equal(int.Parse(listen.Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture), ContainerPort(controller, servicePort.At("targetPort")!));
    }

    [Fact]
    public void Webhook_configuration_follows_the_controllers_recommendation()
    {
        // See the remarks on src/Controller/Webhook/AdmissionReviewProcessor.cs.
        var webhook = Assert.Single(chart.Single("ValidatingWebhookConfiguration").Items("webhooks"));
        Assert.Equal(["v1"], webhook.Strings("admissionReviewVersions"));
        Assert.Equal("None", webhook.Str("sideEffects"));
        Assert.Equal("Fail", webhook.Str("failurePolicy"));
        Assert.Equal(5, (int)webhook.At("timeoutSeconds")!);
        Assert.Equal("Equivalent", webhook.Str("matchPolicy"));
        var rule = Assert.Single(webhook.Items("rules"));
        Assert.Equal(["resource.k8s.io"], rule.Strings("apiGroups"));
        Assert.Equal(["v1", "v1beta2", "v1beta1"], rule.Strings("apiVersions"));
        Assert.Equal(["CREATE", "UPDATE"], rule.Strings("operations"));
        Assert.Equal(["resourceclaims", "resourceclaimtemplates"], rule.Strings("resources"));
        var conditions = webhook.Items("matchConditions").ToDictionary(c => c.Str("name"), c => c.Str("expression"), StringComparer.Ordinal);
        Assert.Contains("'gpu.nvidia.com'", conditions["has-driver-config"], StringComparison.Ordinal);
        Assert.Contains("object.spec.?spec", conditions["has-driver-config"], StringComparison.Ordinal);
        Assert.Contains("spec-written", conditions.Keys);
    }

    [Fact]
    public async Task Controller_binary_serves_the_charts_probe_paths_and_webhook_path()
    {
        using var dir = Kit.TempDir.Create("sdct");
        WriteSelfSignedPem(dir.File("tls.crt"), dir.File("tls.key"));
        var (process, ports) = await Kit.FreshPort.StartAsync(
            2,
            p => Kit.SecuredraProcess.Start("controller",
            [
                "controller", "--audit-interval=0", "--log-format=text",
                $"--tls-cert-file={dir.File("tls.crt")}", $"--tls-private-key-file={dir.File("tls.key")}",
                $"--http-endpoint=127.0.0.1:{p[0]}", $"--webhook-listen=127.0.0.1:{p[1]}",
            ]),
            p => p);
        await using var _ = process;
        var (http, https) = (ports[0], ports[1]);
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        var container = Assert.Single(Containers("Deployment"));

        using var liveness = await client.GetAsync(new Uri($"http://127.0.0.1:{http}{container.Str("livenessProbe.httpGet.path")}"));
        Assert.Equal(HttpStatusCode.OK, liveness.StatusCode);
        using var readiness = await client.GetAsync(new Uri($"http://127.0.0.1:{http}{container.Str("readinessProbe.httpGet.path")}"));
        Assert.Equal(HttpStatusCode.OK, readiness.StatusCode);
        using var unknown = await client.GetAsync(new Uri($"http://127.0.0.1:{http}/no-such-path"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        var path = Assert.Single(chart.Single("ValidatingWebhookConfiguration").Items("webhooks")).Str("clientConfig.service.path");
        const string Review = """
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1","operation":"CREATE",
             "kind":{"group":"resource.k8s.io","version":"v1","kind":"ResourceClaim"},
             "resource":{"group":"resource.k8s.io","version":"v1","resource":"resourceclaims"},
             "namespace":"tenant-a","name":"c",
             "object":{"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim","metadata":{"name":"c","namespace":"tenant-a"},
               "spec":{"devices":{"requests":[{"name":"gpu","exactly":{"deviceClassName":"securedra-gpu-exclusive"}}],
                 "config":[{"opaque":{"driver":"gpu.nvidia.com","parameters":{"apiVersion":"resource.securedra.io/v1alpha1","kind":"GpuConfig","resetPolicy":"ZeroVRAMOnRelease","bogus":1}}}]}}}}}
            """;
        using var content = new StringContent(Review, Encoding.UTF8, "application/json");
        using var answer = await client.PostAsync(new Uri($"https://127.0.0.1:{https}{path}"), content);
        var body = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.OK, $"POST {path}: {(int)answer.StatusCode} {body}");
        var response = JsonNode.Parse(body)!["response"]!;
        Assert.Equal("u-1", (string?)response["uid"]);
        // The real validator ran: the unknown field is rejected by name.
        Assert.False((bool)response["allowed"]!);
        Assert.Contains("bogus", (string?)response["status"]!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kubelet_plugin_binary_serves_the_charts_probe_paths()
    {
        using var dir = Kit.TempDir.Create("sdct");
        var (apiServer, api) = await Kit.SecuredraProcess.StartLocalApiServerAsync();
        await using var _ = apiServer;
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var (plugin, http) = await Kit.FreshPort.StartAsync(p => Kit.SecuredraProcess.Start("kubelet-plugin",
        [
            "kubelet-plugin", "--node-name=node-1", $"--kubeconfig={api.GetLeftPart(UriPartial.Authority)}", "--log-format=text",
            "--gpu-backend=simulated", "--simulated-gpus=1", "--simulated-memory=1Mi",
            $"--kubelet-registrar-directory-path={dir.Sub("registry")}", $"--kubelet-plugins-directory-path={dir.Sub("plugins")}",
            $"--cdi-root={dir.Sub("cdi")}", $"--http-endpoint=127.0.0.1:{p}",
        ]));
        await using var __ = plugin;
        var container = Assert.Single(Containers("DaemonSet"));
        using var liveness = await client.GetAsync(new Uri($"http://127.0.0.1:{http}{container.Str("livenessProbe.httpGet.path")}"));
        Assert.Equal(HttpStatusCode.OK, liveness.StatusCode);
        // No kubelet registered it, so it is alive but not ready: the path exists (503, not 404).
        using var readiness = await client.GetAsync(new Uri($"http://127.0.0.1:{http}{container.Str("readinessProbe.httpGet.path")}"));
        Assert.Contains(readiness.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable });
        using var unknown = await client.GetAsync(new Uri($"http://127.0.0.1:{http}/no-such-path"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Controller_takes_its_leader_identity_from_pod_name_as_the_chart_sets_it()
    {
        // POD_NAME is read outside the flags (the leader-election identity); the chart sets it from the downward API.
        var deployment = Assert.Single(Containers("Deployment")).Items("env").ToDictionary(e => e.Str("name"), e => e, StringComparer.Ordinal);
        Assert.Equal("metadata.name", deployment["POD_NAME"].Str("valueFrom.fieldRef.fieldPath"));

        using var dir = Kit.TempDir.Create("sdct");
        WriteSelfSignedPem(dir.File("tls.crt"), dir.File("tls.key"));
        var (apiServer, api) = await Kit.SecuredraProcess.StartLocalApiServerAsync();
        await using var _ = apiServer;
        using (var http = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromSeconds(10) })
        using (var ns = new StringContent("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"securedra-system"}}""", Encoding.UTF8, "application/json"))
        using (var created = await http.PostAsync(new Uri("api/v1/namespaces", UriKind.Relative), ns))
        {
            Assert.True(created.IsSuccessStatusCode, $"creating the namespace: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        }

        var (controller, ports) = await Kit.FreshPort.StartAsync(
            2,
            p => Kit.SecuredraProcess.Start("controller",
                [
                    "controller", $"--kubeconfig={api.GetLeftPart(UriPartial.Authority)}", "--audit-interval=24h", "--leader-election=true", "--log-format=text",
                    $"--tls-cert-file={dir.File("tls.crt")}", $"--tls-private-key-file={dir.File("tls.key")}",
                    $"--http-endpoint=127.0.0.1:{p[0]}", $"--webhook-listen=127.0.0.1:{p[1]}",
                ],
                new Dictionary<string, string> { ["POD_NAME"] = "securedra-controller-7d9f-x2x" }),
            p => p);
        await using var __ = controller;

        // The Lease on the API server names the holder: the pod name, then a per-process suffix.
        using var client = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromSeconds(10) };
        var holder = "";
        await Kit.Poll.UntilAsync(
            async () =>
            {
                using var lease = await client.GetAsync(new Uri("apis/coordination.k8s.io/v1/namespaces/securedra-system/leases/securedra-controller", UriKind.Relative));
                holder = lease.IsSuccessStatusCode ? JsonNode.Parse(await lease.Content.ReadAsStringAsync())?["spec"]?["holderIdentity"]?.GetValue<string>() ?? "" : "";
                return holder.Length > 0;
            },
            "the controller holds the leader Lease",
            () => controller.Output,
            TimeSpan.FromSeconds(60));
        Assert.StartsWith("securedra-controller-7d9f-x2x_", holder, StringComparison.Ordinal);
    }

    [Fact]
    public void Audit_of_the_shipped_manifests_finds_nothing()
    {
        var result = SecuredraCli.Run("audit", "--manifests", RepoPaths.Manifests);
        Assert.True(result.ExitCode == 0, $"securedra audit --manifests deploy/manifests exited {result.ExitCode}:\n{result.StdOut}\n{result.StdErr}");
        Assert.Contains("No findings", result.StdOut, StringComparison.Ordinal);

        var json = SecuredraCli.Run("audit", "--manifests", RepoPaths.Manifests, "--output", "json");
        Assert.Equal(0, json.ExitCode);
        Assert.Equal(0, (int)JsonNode.Parse(json.StdOut)!["count"]!);
    }

    [Fact]
    public void Audit_of_a_renamed_release_finds_nothing_with_the_names_the_chart_gives_the_controller()
    {
        // fullnameOverride renames every object; the chart passes the real names to the controller's auditor.
        // The same flags (audit and controller share them) make the offline audit agree.
        const string Namespace = "gpu-operators";
        var yaml = RenderedChart.Render(Namespace, "--set", "fullnameOverride=acme");
        var dir = Directory.CreateTempSubdirectory("securedra-contract-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "acme.yaml"), yaml);
            var controller = RenderedChart.Parse(Path.Combine(dir, "acme.yaml")).Single(o => o.Str("kind") == "Deployment").At("spec.template.spec").Items("containers").Single();
            var auditFlags = SecuredraCli.HelpOf("audit").Flags;
            var passed = controller.Strings("args").Skip(1).Where(a => auditFlags.Contains(a.Split('=', 2)[0])).ToList();
            Assert.Contains(passed, a => a.StartsWith("--claim-policy-names=acme-claims-v1,", StringComparison.Ordinal));

            var defaults = SecuredraCli.Run("audit", "--manifests", dir, $"--namespace={Namespace}");
            Assert.Equal(1, defaults.ExitCode);

            var result = SecuredraCli.Run(["audit", "--manifests", dir, $"--namespace={Namespace}", .. passed]);
            Assert.True(result.ExitCode == 0, $"audit with the chart's names exited {result.ExitCode}:\n{result.StdOut}\n{result.StdErr}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static TheoryData<string, string> BrokenCopies => new()
    {
        { "daemonset-privileged", "privileged is true" },
        { "deviceclass-without-reset-policy", "pins no resetPolicy" },
        { "claim-policy-binding-without-deny", "it must include Deny" },
        { "slice-policy-missing", "securedra-resourceslices-node-scoped is missing" },
        { "plugin-bound-to-cluster-admin", "not one of the driver's own roles" },
        { "tenant-claims-without-quota", "has ResourceClaims but no ResourceQuota" },
        { "webhook-fails-open", "failurePolicy is Ignore" },
    };

    [Theory]
    [MemberData(nameof(BrokenCopies))]
    public void Audit_of_a_broken_copy_exits_1_with_the_finding(string breakage, string expected)
    {
        var dir = Directory.CreateTempSubdirectory("securedra-contract-").FullName;
        try
        {
            var objects = chart.Objects.Select(o => o.DeepClone().AsObject()).ToList();
            Break(objects, breakage);
            File.WriteAllText(Path.Combine(dir, "broken.json"), new JsonObject { ["apiVersion"] = "v1", ["kind"] = "List", ["items"] = new JsonArray([.. objects]) }.ToJsonString());
            var result = SecuredraCli.Run("audit", "--manifests", dir);
            Assert.True(result.ExitCode == 1, $"{breakage}: exit {result.ExitCode}\n{result.StdOut}\n{result.StdErr}");
            Assert.Contains(expected, result.StdOut, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Audit_of_the_unbroken_json_copy_finds_nothing()
    {
        // The control for the broken copies: the same JSON route with nothing changed is clean.
        var dir = Directory.CreateTempSubdirectory("securedra-contract-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "clean.json"), new JsonObject { ["apiVersion"] = "v1", ["kind"] = "List", ["items"] = new JsonArray([.. chart.Objects.Select(o => o.DeepClone())]) }.ToJsonString());
            var result = SecuredraCli.Run("audit", "--manifests", dir);
            Assert.True(result.ExitCode == 0, $"{result.StdOut}\n{result.StdErr}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Break(List<JsonObject> objects, string breakage)
    {
        JsonObject Get(string kind, string name) => objects.Single(o => o.Str("kind") == kind && o.Str("metadata.name") == name);
        switch (breakage)
        {
            case "daemonset-privileged":
                Get("DaemonSet", "securedra-kubelet-plugin").At("spec.template.spec").Items("containers").Single()["securityContext"]!["privileged"] = true;
                break;
            case "deviceclass-without-reset-policy":
                Get("DeviceClass", "securedra-gpu-exclusive").At("spec").Items("config").Single().At("opaque.parameters")!.AsObject().Remove("resetPolicy");
                break;
            case "claim-policy-binding-without-deny":
                Get("ValidatingAdmissionPolicyBinding", "securedra-claims-v1beta1")["spec"]!["validationActions"] = new JsonArray("Audit");
                break;
            case "slice-policy-missing":
                objects.Remove(Get("ValidatingAdmissionPolicy", "securedra-resourceslices-node-scoped"));
                break;
            case "plugin-bound-to-cluster-admin":
                Get("ClusterRoleBinding", "securedra-kubelet-plugin")["roleRef"]!["name"] = "cluster-admin";
                break;
            case "tenant-claims-without-quota":
                objects.Add(JsonNode.Parse("""
                    {"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaim","metadata":{"name":"gpu","namespace":"tenant-b"},
                     "spec":{"devices":{"requests":[{"name":"gpu","exactly":{"deviceClassName":"securedra-gpu-exclusive"}}]}}}
                    """)!.AsObject());
                break;
            case "webhook-fails-open":
                chartWebhook(objects)["failurePolicy"] = "Ignore";
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(breakage), breakage, null);
        }

        static JsonObject chartWebhook(List<JsonObject> objects) =>
            objects.Single(o => o.Str("kind") == "ValidatingWebhookConfiguration").Items("webhooks").Single().AsObject();
    }

    private static int HttpEndpointPort(JsonNode container)
    {
        var endpoint = Flags(container)["--http-endpoint"];
        return int.Parse(endpoint.Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static int ContainerPort(JsonNode container, JsonNode port) =>
        port.GetValueKind() == System.Text.Json.JsonValueKind.Number
            ? (int)port
            : (int)container.Items("ports").Single(p => p.Str("name") == (string?)port).At("containerPort")!;

    private static void WriteSelfSignedPem(string certFile, string keyFile)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=securedra-webhook.securedra-system.svc", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
    }
}
