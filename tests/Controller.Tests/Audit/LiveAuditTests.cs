using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.Controller.Audit;
using SecureDra.Controller.Audit.Sources;
using SecureDra.Controller.Leadership;
using SecureDra.Controller.Tests.Support;
using SecureDra.Kube.Client;
using SecureDra.Kube.Events;
using SecureDra.LocalCluster.ApiServer;
using SecureDra.Observability.Metrics;

namespace SecureDra.Controller.Tests.Audit;

/// <summary>
/// The live snapshot source and the controller's audit loop against the local API server loaded with the rendered
/// chart by kubectl: the same findings as the offline audit of the same files, objects in every namespace seen.
/// </summary>
public sealed class LiveAuditTests
{
    /// <summary>Findings that live in tenant namespaces, which only an all-namespace LIST can see.</summary>
    internal const string TenantObjects = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: tenant-b}
        ---
        apiVersion: resource.k8s.io/v1
        kind: ResourceClaim
        metadata: {name: training, namespace: tenant-b}
        spec:
          devices:
            requests:
            - name: gpu
              exactly: {deviceClassName: securedra-gpu-exclusive}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: plugin-admin, namespace: tenant-a}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
        subjects:
        - {kind: ServiceAccount, name: securedra-kubelet-plugin, namespace: securedra-system}
        """;

    private static AuditReconciler Reconciler(IKubeApiClient client, AuditFindingPublisher publisher)
    {
        var options = new HardeningAuditOptions();
        return new AuditReconciler(
            new LiveSnapshotSource(client, options), new HardeningAuditor(options), publisher,
            new LeadershipState(), new AuditReconcilerOptions(), TimeProvider.System, NullLogger<AuditReconciler>.Instance);
    }

    [Fact]
    public async Task Live_audit_of_the_applied_chart_reports_exactly_what_the_offline_audit_of_the_same_files_reports()
    {
        await using var cluster = await ChartCluster.StartAsync(TenantObjects);
        var options = new HardeningAuditOptions();
        using var client = KubeApiClientFactory.Create(cluster.ServerUrl);

        var offline = new HardeningAuditor(options).Audit(await new ManifestDirectorySnapshotSource(cluster.Manifests.Path, new StrictManifestReader()).LoadAsync(default));
        var live = new HardeningAuditor(options).Audit(await new LiveSnapshotSource(client, options).LoadAsync(default));

        Assert.Equal(AuditReportWriter.Json(offline), AuditReportWriter.Json(live));
        // The claim-quota finding exists only because the tenant-b claim was listed across all namespaces.
        Assert.Contains(live, f => f.Check == AuditChecks.ClaimQuota && f.Object.Kind == "Namespace" && f.Object.Name == "tenant-b");
        Assert.Contains(live, f => f.Check == AuditChecks.ServiceAccountRbac && f.Object.Namespace == "tenant-a");
        Assert.Contains(cluster.Server.RequestLog.Entries, e => e.Path == "/apis/resource.k8s.io/v1/resourceclaims" && e.Verb == "list");
    }

    [Fact]
    public async Task The_controllers_audit_loop_reports_the_same_findings_as_events_on_the_objects()
    {
        await using var cluster = await ChartCluster.StartAsync(TenantObjects);
        using var client = KubeApiClientFactory.Create(cluster.ServerUrl);
        var options = new HardeningAuditOptions();
        var offline = new HardeningAuditor(options).Audit(await new ManifestDirectorySnapshotSource(cluster.Manifests.Path, new StrictManifestReader()).LoadAsync(default));
        var publisher = new AuditFindingPublisher(new MetricsRegistry(), new KubeEventRecorder(client));

        var findings = await Reconciler(client, publisher).RunOnceAsync(default);

        Assert.Equal(AuditReportWriter.Json(offline), AuditReportWriter.Json(findings!));
        var events = (await client.ListAsync(KubeResource.Events, null, null, default))["items"]!.AsArray().OfType<JsonObject>().ToList();
        Assert.Contains(events, e => (string?)e["reason"] == "HardeningClaimQuota" && (string?)e["involvedObject"]!["name"] == "tenant-b");
        Assert.Contains(events, e => (string?)e["reason"] == "HardeningServiceaccountRbac" && (string?)e["involvedObject"]!["namespace"] == "tenant-a");
    }

    [Fact]
    public async Task A_failed_run_is_counted_reported_as_an_event_on_the_pod_and_shown_by_the_status_until_a_run_succeeds()
    {
        await using var cluster = await ChartCluster.StartAsync(TenantObjects);
        using var client = KubeApiClientFactory.Create(cluster.ServerUrl);
        var metrics = new MetricsRegistry();
        var pod = new EventTarget("v1", "Pod", "securedra-controller-7d9f-abcde", "securedra-system", null);
        var publisher = new AuditFindingPublisher(metrics, new KubeEventRecorder(client), pod);
        var reconciler = Reconciler(client, publisher);
        cluster.Server.Faults.Add(new FaultRule { Count = 2, Status = 503, PathPrefix = "/apis/resource.k8s.io/v1/resourceclaims" });

        Assert.Null(await reconciler.RunOnceAsync(default));
        Assert.Null(await reconciler.RunOnceAsync(default));

        var text = metrics.Render();
        Assert.Contains("securedra_audit_runs_total{result=\"error\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("securedra_audit_consecutive_failures 2", text, StringComparison.Ordinal);
        Assert.StartsWith("audit: failing (2 consecutive run(s), last success never): ", publisher.Status.Describe(), StringComparison.Ordinal);
        var events = (await client.ListAsync(KubeResource.Events, "securedra-system", null, default))["items"]!.AsArray().OfType<JsonObject>().ToList();
        var failures = events.Where(e => (string?)e["reason"] == AuditFindingPublisher.FailureReason && (string?)e["involvedObject"]!["name"] == pod.Name).ToList();
        Assert.Equal(2, failures.Count);
        Assert.All(failures, f => Assert.Equal("Warning", (string?)f["type"]));
        Assert.Contains(failures, f => ((string?)f["message"])!.StartsWith("hardening audit run failed (2 in a row): 503", StringComparison.Ordinal));

        Assert.NotNull(await reconciler.RunOnceAsync(default));
        Assert.Contains("securedra_audit_consecutive_failures 0", metrics.Render(), StringComparison.Ordinal);
        Assert.StartsWith("audit: ok (last success 20", publisher.Status.Describe(), StringComparison.Ordinal);
    }
}
