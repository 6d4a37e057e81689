using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SecureDra.Controller.Audit;
using SecureDra.Controller.Hosting;
using SecureDra.Controller.Leadership;
using SecureDra.Controller.Tests.Support;
using SecureDra.Kube.Client;

namespace SecureDra.Controller.Tests.Hosting;

/// <summary>The whole controller host: election on a Lease, the leader-only audit loop, events, probes, and release on stop.</summary>
public sealed partial class ControllerHostTests
{
    [Fact]
    public async Task Controller_elects_itself_audits_publishes_and_releases_the_lease_on_stop()
    {
        using var dir = new TempDir();
        using var certificate = TestCertificate.Create("controller");
        TestCertificate.WritePem(certificate, dir.File("tls.crt"), dir.File("tls.key"));
        var client = new InMemoryKubeApiClient();
        var events = new RecordingEventRecorder();
        var options = new ControllerOptions
        {
            TlsCertFile = dir.File("tls.crt"),
            TlsPrivateKeyFile = dir.File("tls.key"),
            WebhookListen = new IPEndPoint(IPAddress.Loopback, 0),
            HttpEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
            Reconciler = new AuditReconcilerOptions { Interval = TimeSpan.FromMinutes(5) },
            Election = new LeaderElectionOptions { Identity = "replica-1", RetryPeriod = TimeSpan.FromMilliseconds(50) },
        };

        // An empty cluster: the policies and the plugin DaemonSet are missing.
        var app = ControllerHost.Build(options, client, events, logging => logging.ClearProviders());
        var leadership = app.Services.GetRequiredService<LeadershipState>();
        await using (app)
        {
            await app.StartAsync();
            var http = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single(a => a.StartsWith("http://", StringComparison.Ordinal)));
            using var httpClient = new HttpClient();

            var metrics = "";
            await Poll.UntilAsync(
                async () => (metrics = await httpClient.GetStringAsync(new Uri(http, "/metrics"))).Contains("securedra_audit_runs_total{result=\"findings\"} 1", StringComparison.Ordinal),
                "the first audit run is counted");

            Assert.Contains("securedra_audit_runs_total{result=\"findings\"} 1", metrics, StringComparison.Ordinal);
            Assert.Contains("securedra_controller_leader 1", metrics, StringComparison.Ordinal);
            // The standard families, under the same names as the plugin's (StandardMetrics).
            Assert.Contains("# TYPE process_resident_memory_bytes gauge", metrics, StringComparison.Ordinal);
            Assert.Contains("# TYPE dotnet_gc_heap_size_bytes gauge", metrics, StringComparison.Ordinal);
            Assert.Contains("securedra_build_info{component=\"controller\",", metrics, StringComparison.Ordinal);
            // Six policies missing, each with its binding (the claim delete-protection policy is the sixth).
            Assert.Contains("securedra_audit_findings{check=\"admission-policy\",severity=\"Critical\"} 12", metrics, StringComparison.Ordinal);
            AssertExportsWhatTheAlertsRead(metrics);
            Assert.Contains("leader: true", await httpClient.GetStringAsync(new Uri(http, "/readyz")), StringComparison.Ordinal);
            Assert.Equal("replica-1", (string?)client.Peek(KubeResource.Leases, "securedra", "securedra-controller")!["spec"]!["holderIdentity"]);
            lock (events.Events)
            {
                Assert.Contains(events.Events, e => e.Target.Kind == "ValidatingAdmissionPolicy" && e.Reason == "HardeningAdmissionPolicy");
            }

            await app.StopAsync();
        }

        var lease = client.Peek(KubeResource.Leases, "securedra", "securedra-controller")!;
        Assert.Null((string?)lease["spec"]!["holderIdentity"]);
        Assert.False(leadership.IsLeader);
    }

    [Fact]
    public void Unreadable_certificate_fails_at_build_with_the_flag_names()
    {
        var options = new ControllerOptions { TlsCertFile = "/nonexistent/tls.crt", TlsPrivateKeyFile = "/nonexistent/tls.key", EnableAudit = false };
        var e = Assert.Throws<InvalidOperationException>(() => ControllerHost.Build(options, null, null, logging => logging.ClearProviders()));
        Assert.Contains("--tls-cert-file /nonexistent/tls.crt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Certificate_without_matching_key_is_refused()
    {
        using var dir = new TempDir();
        using var one = TestCertificate.Create("one");
        using var two = TestCertificate.Create("two");
        TestCertificate.WritePem(one, dir.File("tls.crt"), dir.File("tls.key"));
        TestCertificate.WritePem(two, dir.File("other.crt"), dir.File("other.key"));
        var options = new ControllerOptions { TlsCertFile = dir.File("tls.crt"), TlsPrivateKeyFile = dir.File("other.key"), EnableAudit = false };
        await Task.Yield();
        Assert.Throws<InvalidOperationException>(() => ControllerHost.Build(options, null, null, logging => logging.ClearProviders()));
    }

    /// <summary>
    /// Every controller metric the PrometheusRule's alerts read (securedra_admission_*, securedra_audit_*) is one this host
    /// exports, a _bucket series from a histogram: checked on the running host's /metrics, not on source text (the
    /// plugin's: Cli.Tests DemoMetricsTests).
    /// </summary>
    private static void AssertExportsWhatTheAlertsRead(string metrics)
    {
        var rules = File.ReadAllText(Path.Combine(RepoPaths.Root, "deploy", "helm", "securedra", "templates", "prometheusrule.yaml"));
        var read = ControllerMetric().Matches(rules).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
        Assert.True(read.Count >= 4, string.Join(", ", read));
        foreach (var name in read)
        {
            var family = HistogramSeries().Replace(name, "");
            Assert.True(metrics.Contains(name.EndsWith("_bucket", StringComparison.Ordinal) ? $"# TYPE {family} histogram\n" : $"# TYPE {family} ", StringComparison.Ordinal),
                $"an alert reads {name}, which the controller does not export as such");
        }
    }

    [GeneratedRegex(@"\bsecuredra_(admission|audit)_[a-z0-9_]+")]
    private static partial Regex ControllerMetric();

    [GeneratedRegex("_(bucket|sum|count)$")]
    private static partial Regex HistogramSeries();
}
