using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Kube.Events;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.Observability.Changes;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.NodeHardening;

/// <summary>
/// Runs the node checks at start (before the first slice is published) and every
/// <see cref="NodeHardeningOptions.RecheckInterval"/>. Each finding that appears or goes away is a
/// structured log event, a Node Event and a metric; the current ones are lines in /readyz (which
/// stays ready: the withholding is the enforcement, not a restart or a stalled rollout). With
/// <see cref="NodeHardeningOptions.Require"/>, no device is published while any finding is Open, and
/// the devices come back at the first re-check that finds the node closed.
/// </summary>
public sealed partial class NodeHardeningMonitor : BackgroundService, IPluginReadinessCheck, IDevicePublicationGate
{
    private readonly NodeHardeningOptions _options;
    private readonly NodeHardeningChecker _checker;
    private readonly NodeEvents _events;
    private readonly TimeProvider _time;
    private readonly ILogger<NodeHardeningMonitor> _logger;
    private readonly Gauge _findings;
    private readonly Gauge _withheld;
    private readonly Counter _runs;
    private readonly Lock _lock = new();
    private NodeHardeningReport? _report;
    private PeriodicTimer? _timer;
    private readonly ChangeSignal _changed = new();

    public NodeHardeningMonitor(
        NodeHardeningOptions options,
        NodeHardeningChecker checker,
        NodeEvents events,
        MetricsRegistry metrics,
        TimeProvider time,
        ILogger<NodeHardeningMonitor> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _options = options;
        _checker = checker;
        _events = events;
        _time = time;
        _logger = logger;
        _findings = metrics.Gauge("securedra_node_hardening_findings", "Node hardening findings now present (1) or gone (0), by id, path around DRA (B1…B9) and state (open, advisory).", "id", "path", "state");
        _withheld = metrics.Gauge("securedra_node_hardening_devices_withheld", "1 while this node's devices are withheld from its ResourceSlices because a path around DRA is open (--require-node-hardening).");
        _runs = metrics.Counter("securedra_node_hardening_checks_total", "Runs of the node hardening checks, by result (closed, open).", "result");
    }

    public string Name => "node-hardening";

    public NodeHardeningReport? Current
    {
        get { lock (_lock) { return _report; } }
    }

    public bool PublicationAllowed
    {
        get
        {
            lock (_lock)
            {
                return !_options.Require || (_report is not null && !_report.AnyOpen);
            }
        }
    }

    public Task Changed => _changed.Next;

    public PluginReadiness Check()
    {
        var report = Current;
        if (report is null)
        {
            return new PluginReadiness(true, _options.Require ? "node checks not run yet: devices withheld" : "node checks not run yet");
        }

        var lines = report.Findings.Select(f => $"{(f.State == NodeFindingState.Open ? "open" : "advisory")}: {f.Line}").ToList();
        var open = report.Open.Count();
        var head = open == 0 ? "no open path around DRA"
            : _options.Require ? $"{open} open path(s) around DRA: devices withheld (--require-node-hardening)"
            : $"{open} open path(s) around DRA (devices still published; --require-node-hardening withholds them)";
        // Ready even while devices are withheld: a pod that never turned ready would stall a rolling
        // update (maxUnavailable 0) and leave the previous plugin version publishing on this node.
        return new PluginReadiness(true, string.Join(" | ", lines.Prepend(head)));
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // The first run completes before any other hosted service starts, so a node with an open
        // path never publishes its devices, not even for one reconcile.
        await RunOnceAsync(cancellationToken).ConfigureAwait(false);

        // Created here, not in ExecuteAsync (which runs later on the thread pool): the schedule starts
        // at start-up and a tick that falls before the loop waits is latched, not lost.
        _timer = new PeriodicTimer(_options.RecheckInterval, _time);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _timer?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var timer = _timer ?? throw new InvalidOperationException("StartAsync creates the timer");
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await RunOnceAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One run of every check, applied: logs, events and metrics for what changed, then the gate.</summary>
    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var report = _checker.Run();
        NodeHardeningReport? previous;
        bool wasAllowed;
        lock (_lock)
        {
            wasAllowed = !_options.Require || (_report is not null && !_report.AnyOpen);
            previous = _report;
            _report = report;
        }

        _runs.Inc(report.AnyOpen ? "open" : "closed");
        var before = previous?.Findings.ToDictionary(f => f.Id, StringComparer.Ordinal) ?? [];
        var now = report.Findings.GroupBy(f => f.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

        foreach (var (id, finding) in now)
        {
            _findings.Set(1, finding.Id, finding.Path, State(finding));
            if (before.TryGetValue(id, out var old) && old.State == finding.State)
            {
                continue;
            }

            if (finding.State == NodeFindingState.Open)
            {
                LogOpen(_logger, finding.Id, finding.Path, finding.Source, finding.Message, finding.Fix);
                await _events.RecordAsync(EventSeverity.Warning, "NodeHardeningOpenPath", Bounded(finding.Line), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                LogAdvisory(_logger, finding.Id, finding.Path, finding.Source, finding.Message, finding.Fix);
                await _events.RecordAsync(EventSeverity.Normal, "NodeHardeningAdvisory", Bounded(finding.Line), cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (var (id, finding) in before)
        {
            if (now.ContainsKey(id))
            {
                continue;
            }

            _findings.Set(0, finding.Id, finding.Path, State(finding));
            LogClosed(_logger, finding.Id, finding.Path, finding.Source);
            await _events.RecordAsync(EventSeverity.Normal, "NodeHardeningPathClosed", Bounded($"{finding.Id} [{finding.Path}] {finding.Source}: closed"), cancellationToken).ConfigureAwait(false);
        }

        var allowed = !_options.Require || !report.AnyOpen;
        _withheld.Set(allowed ? 0 : 1);
        if (allowed != wasAllowed || previous is null)
        {
            if (!allowed)
            {
                var ids = string.Join(", ", report.Open.Select(f => f.Id));
                LogWithheld(_logger, ids);
                await _events.RecordAsync(EventSeverity.Warning, "DevicesWithheld", Bounded($"GPUs not published: open paths around DRA ({ids}); see the plugin's /readyz"), cancellationToken).ConfigureAwait(false);
            }
            else if (_options.Require && previous is not null)
            {
                LogPublished(_logger);
                await _events.RecordAsync(EventSeverity.Normal, "DevicesPublished", "node hardening checks pass: GPUs published again", cancellationToken).ConfigureAwait(false);
            }

            _changed.Signal();
        }
    }

    private static string State(NodeFinding f) => f.State == NodeFindingState.Open ? "open" : "advisory";

    // Event messages are bounded by the API server (1 KiB is well inside); paths in them are the operator's.
    private static string Bounded(string text) => text.Length <= 1000 ? text : text[..1000] + "…";
}
