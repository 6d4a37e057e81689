using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using SecureDra.Kube.Events;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.NodeHardening;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.Tests.Pipeline.TestDoubles;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Tests.NodeHardening;

/// <summary>The monitor: findings become metrics, Node Events, log events and /readyz lines; with Require the gate withholds devices until a re-check finds the node closed.</summary>
public sealed class NodeHardeningMonitorTests : IDisposable
{
    private readonly NodeFiles _files = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-06T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly MetricsRegistry _metrics = new();
    private readonly RecordingEventRecorder _events = new();
    private readonly FakeKubeApiClient _kube = new();

    public void Dispose() => _files.Dispose();

    private NodeHardeningMonitor Monitor(bool require)
    {
        var options = _files.Options(require) with { RecheckInterval = TimeSpan.FromSeconds(30) };
        var checker = new NodeHardeningChecker(NodeHardeningChecker.DefaultChecks(options, "/var/run/securedra/cdi"), _time);
        var context = new PipelineContext(new KubeletPluginOptions { NodeName = "node-1" }, new ClaimPipelineOptions());
        var events = new NodeEvents(_events, context, new NodeIdentity(_kube, context), _time, NullLogger<NodeEvents>.Instance);
        return new NodeHardeningMonitor(options, checker, events, _metrics, _time, NullLogger<NodeHardeningMonitor>.Instance);
    }

    private void WriteClosedNode()
    {
        _files.Write(_files.OperatorToolkitConfig, NodeFiles.HardenedToolkitToml);
        _files.Write(_files.ContainerdConfig, NodeFiles.ContainerdV3Toml.Replace("\"/var/run/cdi\"]", "\"/var/run/cdi\", \"/var/run/securedra/cdi\"]", StringComparison.Ordinal));
        _files.Write(_files.DpkgStatus, NodeFiles.DpkgStatusWith("1.17.8-1"));
    }

    [Fact]
    public async Task With_require_an_open_path_withholds_devices_until_a_recheck_finds_it_closed()
    {
        WriteClosedNode();
        _files.Write(_files.OperatorToolkitConfig, NodeFiles.OperatorToolkitToml);
        using var monitor = Monitor(require: true);
        Assert.False(monitor.PublicationAllowed); // fail closed before the first run
        await monitor.StartAsync(CancellationToken.None);

        Assert.False(monitor.PublicationAllowed);
        var ready = monitor.Check();
        Assert.True(ready.Ready); // withholding is the enforcement; a never-ready pod would stall a rollout on the old version
        Assert.Contains("devices withheld (--require-node-hardening)", ready.Detail, StringComparison.Ordinal);
        Assert.Contains("open: toolkit-envvar-accepted [B1] " + _files.OperatorToolkitConfig, ready.Detail, StringComparison.Ordinal);
        var text = _metrics.Render();
        Assert.Contains("securedra_node_hardening_devices_withheld 1", text, StringComparison.Ordinal);
        Assert.Contains("securedra_node_hardening_findings{id=\"toolkit-envvar-accepted\",path=\"B1\",state=\"open\"} 1", text, StringComparison.Ordinal);
        Assert.Contains(_events.Events, e => e.Reason == "NodeHardeningOpenPath" && e.Severity == EventSeverity.Warning && e.Target.Kind == "Node" && e.Target.Name == "node-1"
            && e.Target.Uid == "node-uid-1" // at start, before any slice is published: NodeEvents asks NodeIdentity itself
            && e.Message.Contains("toolkit-envvar-accepted", StringComparison.Ordinal));
        Assert.Contains(_events.Events, e => e.Reason == "DevicesWithheld");

        // The operator fixes the file; the next periodic check (TimeProvider) opens the gate.
        var changed = monitor.Changed;
        WriteClosedNode();
        _time.Advance(TimeSpan.FromSeconds(30));
        await changed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(monitor.PublicationAllowed);
        Assert.True(monitor.Check().Ready);
        Assert.StartsWith("no open path around DRA", monitor.Check().Detail, StringComparison.Ordinal);
        text = _metrics.Render();
        Assert.Contains("securedra_node_hardening_devices_withheld 0", text, StringComparison.Ordinal);
        Assert.Contains("securedra_node_hardening_findings{id=\"toolkit-envvar-accepted\",path=\"B1\",state=\"open\"} 0", text, StringComparison.Ordinal);
        Assert.Contains(_events.Events, e => e.Reason == "NodeHardeningPathClosed" && e.Message.StartsWith("toolkit-envvar-accepted", StringComparison.Ordinal));
        Assert.Contains(_events.Events, e => e.Reason == "DevicesPublished");
        await monitor.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Without_require_findings_are_reported_but_devices_stay_published_and_events_are_not_repeated()
    {
        _files.Write(_files.OperatorToolkitConfig, NodeFiles.OperatorToolkitToml);
        using var monitor = Monitor(require: false);
        await monitor.StartAsync(CancellationToken.None);
        Assert.True(monitor.PublicationAllowed);
        var ready = monitor.Check();
        Assert.True(ready.Ready);
        Assert.Contains("open path(s) around DRA (devices still published", ready.Detail, StringComparison.Ordinal);
        Assert.Contains("advisory: toolkit-version-unknown", ready.Detail, StringComparison.Ordinal);

        var before = _events.Events.Count;
        await monitor.RunOnceAsync(CancellationToken.None);
        Assert.Equal(before, _events.Events.Count); // unchanged findings: no new events
        Assert.Contains("securedra_node_hardening_checks_total{result=\"open\"} 2", _metrics.Render(), StringComparison.Ordinal);
        await monitor.StopAsync(CancellationToken.None);
    }
}
