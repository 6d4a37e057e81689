using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SecureDra.Controller.Audit;
using SecureDra.Controller.Audit.Sources;
using SecureDra.Controller.Leadership;
using SecureDra.Controller.Tests.Support;
using SecureDra.Kube.Client;
using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Tests.Audit;

public sealed class SnapshotSourceTests
{
    [Fact]
    public async Task Offline_audit_of_a_compliant_manifests_directory_is_clean_and_exits_0()
    {
        using var dir = new TempDir();
        HardenedCluster.WriteTo(dir.Path);
        await File.WriteAllTextAsync(dir.File("README.md"), "not a manifest");
        using var output = new StringWriter();
        var exit = await AuditRunner.RunAsync(new ManifestDirectorySnapshotSource(dir.Path, new StrictManifestReader()), new HardeningAuditOptions(), "table", output, null, default);
        Assert.True(exit == 0, output.ToString());
        Assert.Contains("No findings", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Offline_audit_finds_problems_in_nested_files_and_exits_1_with_json()
    {
        using var dir = new TempDir();
        HardenedCluster.WriteTo(dir.Path);
        Directory.CreateDirectory(dir.File("overlays/prod"));
        await File.WriteAllTextAsync(dir.File("overlays/prod/bad.yml"), """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata:
              name: plugin-admin
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
            subjects:
            - {kind: ServiceAccount, name: securedra-kubelet-plugin, namespace: securedra-system}
            ---
            apiVersion: v1
            kind: List
            items:
            - apiVersion: resource.k8s.io/v1
              kind: ResourceClaim
              metadata: {name: gpu, namespace: tenant-b}
              spec: {}
            """);
        using var output = new StringWriter();
        var exit = await AuditRunner.RunAsync(new ManifestDirectorySnapshotSource(dir.Path, new StrictManifestReader()), new HardeningAuditOptions(), "json", output, null, default);
        Assert.Equal(1, exit);
        var json = JsonNode.Parse(output.ToString())!;
        Assert.Equal(2, (int)json["count"]!);
        var ids = json["findings"]!.AsArray().Select(f => (string?)f!["id"]).ToList();
        Assert.Equal(["serviceaccount-rbac", "claim-quota"], ids);
    }

    [Fact]
    public async Task Offline_audit_refuses_too_many_or_too_large_files()
    {
        using var dir = new TempDir();
        HardenedCluster.WriteTo(dir.Path);
        var tooMany = new ManifestDirectorySnapshotSource(dir.Path, new StrictManifestReader()) { MaxFiles = 3 };
        var e1 = await Assert.ThrowsAsync<InvalidOperationException>(() => tooMany.LoadAsync(default));
        Assert.Contains("more than 3 manifest files", e1.Message, StringComparison.Ordinal);
        var tooLarge = new ManifestDirectorySnapshotSource(dir.Path, new StrictManifestReader()) { MaxFileBytes = 100 };
        var e2 = await Assert.ThrowsAsync<InvalidOperationException>(() => tooLarge.LoadAsync(default));
        Assert.Contains("exceeds the limit of 100 bytes", e2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Offline_audit_does_not_follow_symlinked_directories()
    {
        using var dir = new TempDir();
        using var outside = new TempDir();
        HardenedCluster.WriteTo(dir.Path);
        await File.WriteAllTextAsync(Path.Combine(outside.Path, "evil.yaml"), "apiVersion: v1\nkind: ResourceClaim\nmetadata: {name: x, namespace: nowhere}\n");
        Directory.CreateSymbolicLink(dir.File("link"), outside.Path);
        var snapshot = await new ManifestDirectorySnapshotSource(dir.Path, new StrictManifestReader()).LoadAsync(default);
        Assert.DoesNotContain(snapshot.ResourceClaims, c => (string?)c["metadata"]!["name"] == "x");
    }

    [Theory]
    [InlineData("a: [1\n", "invalid YAML")]
    [InlineData("- just\n- a list\n", "must be a mapping")]
    [InlineData("a: 1\na: 2\n", "duplicate key")]
    [InlineData("a: &x {b: 1}\nc: *x\n", "anchors are not supported")]
    public void Yaml_reader_rejects_bad_documents_with_the_file_name(string yaml, string expected)
    {
        var e = Assert.Throws<FormatException>(() => new StrictManifestReader().Read(yaml, "dir/file.yaml"));
        Assert.Contains("dir/file.yaml", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Yaml_reader_types_scalars_like_yaml_1_2_and_keeps_quoted_strings()
    {
        var obj = new StrictManifestReader().Read("a: 1\nb: \"1\"\nc: true\nd: 'true'\ne: ~\nf: 1.5\ng: text\nh: 010\n", "x").Single();
        Assert.Equal("""{"a":1,"b":"1","c":true,"d":"true","e":null,"f":1.5,"g":"text","h":10}""", obj.ToJsonString());
    }

    [Fact]
    public async Task Live_source_negotiates_the_newest_served_version_and_fills_in_kinds()
    {
        var client = SeededClient();
        client.ServedResourceVersions.Remove("v1");
        var snapshot = await new LiveSnapshotSource(client, new HardeningAuditOptions()).LoadAsync(default);
        Assert.Contains("LIST resource.k8s.io/v1beta2/deviceclasses /", client.Calls);
        Assert.DoesNotContain(client.Calls, c => c.Contains("resource.k8s.io/v1/", StringComparison.Ordinal));
        Assert.Equal(3, snapshot.DeviceClasses.Count);
        Assert.All(snapshot.DeviceClasses, d => Assert.Equal("DeviceClass", (string?)d["kind"]));
        Assert.Equal("resource.k8s.io/v1beta2", (string?)snapshot.DeviceClasses[0]["apiVersion"]);
        Assert.Contains("LIST apps/v1/daemonsets securedra-system/", client.Calls);
        Assert.Empty(new HardeningAuditor(new HardeningAuditOptions()).Audit(snapshot));
    }

    [Fact]
    public async Task Live_source_fails_clearly_when_no_resource_version_is_served()
    {
        var client = SeededClient();
        client.ServedResourceVersions.Clear();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => new LiveSnapshotSource(client, new HardeningAuditOptions()).LoadAsync(default));
        Assert.Contains("serves none of resource.k8s.io v1, v1beta2, v1beta1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Live_source_reads_an_unserved_kind_as_empty_so_the_missing_policy_is_a_finding()
    {
        var client = SeededClient();
        client.NotServedPlurals.Add("validatingadmissionpolicies");
        var snapshot = await new LiveSnapshotSource(client, new HardeningAuditOptions()).LoadAsync(default);
        var findings = new HardeningAuditor(new HardeningAuditOptions()).Audit(snapshot);
        // The slice policy, the three per-version claim policies, the pod-hardening and the claim delete-protection policy.
        Assert.Equal(6, findings.Count(f => f.Check == AuditChecks.AdmissionPolicy && f.Message.EndsWith("is missing", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Reconciler_run_publishes_events_on_offending_objects_and_metrics()
    {
        var client = SeededClient();
        var plugin = client.Peek(Resource("DaemonSet"), "securedra-system", "securedra-kubelet-plugin")!;
        plugin["spec"]!["template"]!["spec"]!["hostNetwork"] = true;
        client.Seed(Resource("DaemonSet"), plugin);

        var metrics = new MetricsRegistry();
        var events = new RecordingEventRecorder();
        var options = new HardeningAuditOptions();
        var reconciler = new AuditReconciler(
            new LiveSnapshotSource(client, options), new HardeningAuditor(options), new AuditFindingPublisher(metrics, events),
            new LeadershipState(), new AuditReconcilerOptions(), TimeProvider.System, NullLogger<AuditReconciler>.Instance);
        var findings = await reconciler.RunOnceAsync(default);

        Assert.Single(findings!);
        var recorded = Assert.Single(events.Events);
        Assert.Equal("DaemonSet", recorded.Target.Kind);
        Assert.Equal("securedra-system", recorded.Target.Namespace);
        Assert.Equal("securedra-kubelet-plugin", recorded.Target.Name);
        Assert.Equal("apps/v1", recorded.Target.ApiVersion);
        Assert.Equal("HardeningPluginDaemonset", recorded.Reason);
        Assert.Contains("hostNetwork", recorded.Message, StringComparison.Ordinal);
        var text = metrics.Render();
        Assert.Contains("securedra_audit_findings{check=\"plugin-daemonset\",severity=\"Critical\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("securedra_audit_findings{check=\"claim-quota\",severity=\"High\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("securedra_audit_runs_total{result=\"findings\"} 1", text, StringComparison.Ordinal);

        // Fixed: the gauge drops back to 0.
        plugin["spec"]!["template"]!["spec"]!["hostNetwork"] = false;
        client.Seed(Resource("DaemonSet"), plugin);
        Assert.Empty((await reconciler.RunOnceAsync(default))!);
        Assert.Contains("securedra_audit_findings{check=\"plugin-daemonset\",severity=\"Critical\"} 0", metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconciler_audits_only_while_leading()
    {
        // No sleeps: every snapshot load records whether this replica led at that moment, the interval runs on a
        // clock the test moves, and the verdict is read after the loop has stopped (every run it made is counted).
        var client = SeededClient();
        var metrics = new MetricsRegistry();
        var state = new LeadershipState();
        var options = new HardeningAuditOptions();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var source = new LeaderRecordingSource(new LiveSnapshotSource(client, options), state);
        var reconciler = new AuditReconciler(
            source, new HardeningAuditor(options), new AuditFindingPublisher(metrics, null),
            state, new AuditReconcilerOptions { Interval = TimeSpan.FromMinutes(5) }, clock, NullLogger<AuditReconciler>.Instance);
        await reconciler.StartAsync(default);

        // Not leading: an interval passing changes nothing.
        clock.Advance(TimeSpan.FromMinutes(11));

        state.Started();
        await Poll.UntilAsync(() => source.Loads.Count >= 1, "the first audit of the term");

        // Each poll moves the clock one interval (the loop may not have armed its next delay yet at the first move).
        await Poll.UntilAsync(
            () =>
            {
                clock.Advance(TimeSpan.FromMinutes(5));
                return source.Loads.Count >= 2;
            },
            "the next audit one interval later");

        // Settled: every audit that began has finished, and the next waits for a clock nobody moves.
        await Poll.UntilAsync(() => CleanRuns(metrics) == source.Loads.Count, "the audits in flight finish");

        // Term over: more intervals pass while another replica leads.
        state.Stopped();
        clock.Advance(TimeSpan.FromMinutes(30));
        await reconciler.StopAsync(default);

        Assert.True(source.Loads.Count >= 2, $"{source.Loads.Count} audits ran");
        Assert.All(source.Loads, leading => Assert.True(leading, "a snapshot was loaded while this replica did not lead"));
        Assert.Equal(source.Loads.Count, CleanRuns(metrics));
    }

    private static int CleanRuns(MetricsRegistry metrics)
    {
        const string Series = "securedra_audit_runs_total{result=\"clean\"} ";
        var line = metrics.Render().Split('\n').FirstOrDefault(l => l.StartsWith(Series, StringComparison.Ordinal));
        return line is null ? 0 : int.Parse(line[Series.Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A snapshot source that notes, for every load, whether the replica led at that moment.</summary>
    private sealed class LeaderRecordingSource(ISnapshotSource inner, LeadershipState leadership) : ISnapshotSource
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<bool> _loads = new();

        public IReadOnlyCollection<bool> Loads => _loads;

        public Task<ClusterSnapshot> LoadAsync(CancellationToken cancellationToken)
        {
            _loads.Enqueue(leadership.IsLeader);
            return inner.LoadAsync(cancellationToken);
        }
    }

    private static KubeResource Resource(string kind) => kind switch
    {
        "DeviceClass" => KubeResource.DeviceClasses("v1"),
        "ResourceClaim" => KubeResource.ResourceClaims("v1"),
        "Namespace" => KubeResource.Namespaces,
        "ResourceQuota" => new("", "v1", "resourcequotas", true),
        "ValidatingAdmissionPolicy" => new("admissionregistration.k8s.io", "v1", "validatingadmissionpolicies", false),
        "ValidatingAdmissionPolicyBinding" => new("admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings", false),
        "ValidatingWebhookConfiguration" => new("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", false),
        "ClusterRole" => new("rbac.authorization.k8s.io", "v1", "clusterroles", false),
        "Role" => new("rbac.authorization.k8s.io", "v1", "roles", true),
        "ClusterRoleBinding" => new("rbac.authorization.k8s.io", "v1", "clusterrolebindings", false),
        "RoleBinding" => new("rbac.authorization.k8s.io", "v1", "rolebindings", true),
        "DaemonSet" => new("apps", "v1", "daemonsets", true),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private static InMemoryKubeApiClient SeededClient()
    {
        var client = new InMemoryKubeApiClient();
        foreach (var obj in HardenedCluster.Objects())
        {
            client.Seed(Resource((string)obj["kind"]!), obj);
        }

        return client;
    }
}
