using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureDra.Kube.Client;
using SecureDra.Kube.Events;
using SecureDra.Kube.Resources;
using SecureDra.KubeletPlugin.Devices;
using SecureDra.KubeletPlugin.Pipeline;
using SecureDra.KubeletPlugin.State;
using SecureDra.Observability.Metrics;

namespace SecureDra.KubeletPlugin.Claims;

/// <summary>
/// Finds claims the checkpoint holds as Prepared whose ResourceClaim no longer exists or was
/// replaced by one with another UID, and reports them (log event, metric, Node Event); it never
/// releases them. "Gone from the API server" is not evidence that no container holds the device:
/// a tenant can strip the delete-protection finalizer and delete its own claim while its pod runs,
/// and releasing then would hand a GPU that container still writes to the next tenant (issue 10
/// item 1). A prepared claim is released only by the kubelet's NodeUnprepareResources. Each claim
/// is reported once per process; an API error skips it until the next pass.
/// </summary>
public sealed partial class StaleClaimReaper : BackgroundService
{
    private readonly IResourceApi _api;
    private readonly ClaimJournal _journal;
    private readonly PipelineStartup _startup;
    private readonly PipelineContext _context;
    private readonly NodeEvents _events;
    private readonly TimeProvider _time;
    private readonly ILogger<StaleClaimReaper> _logger;
    private readonly Counter _stale;
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);

    public StaleClaimReaper(IResourceApi api, ClaimJournal journal, PipelineStartup startup, PipelineContext context, NodeEvents events, MetricsRegistry metrics, TimeProvider time, ILogger<StaleClaimReaper> logger)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _api = api;
        _journal = journal;
        _startup = startup;
        _context = context;
        _events = events;
        _time = time;
        _logger = logger;
        _stale = metrics.Counter("securedra_stale_claims_total", "Prepared claims found gone from (or replaced on) the API server; kept prepared until the kubelet unprepares them.", "kind");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _startup.WaitUntilReadyAsync(stoppingToken).ConfigureAwait(false);
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(_context.Options.StaleClaimCheckInterval, _time, stoppingToken).ConfigureAwait(false);
                await ReapOnceAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogStopped(_logger, ex.Message);
        }
    }

    /// <summary>One pass; returns the UIDs of prepared claims that are gone from the API server (all kept prepared).</summary>
    public async Task<IReadOnlyList<string>> ReapOnceAsync(CancellationToken cancellationToken)
    {
        var stale = new List<string>();
        foreach (var (uid, claim) in _journal.Claims())
        {
            if (claim.State != ClaimCheckpointState.Prepared)
            {
                continue;
            }

            ResourceClaimModel? current;
            try
            {
                current = await _api.GetClaimAsync(claim.Namespace, claim.Name, cancellationToken).ConfigureAwait(false);
            }
            catch (KubeApiException ex)
            {
                LogSkipped(_logger, claim.Namespace, claim.Name, ex.Message);
                continue;
            }

            if (current is not null && current.Uid == uid)
            {
                continue;
            }

            stale.Add(uid);
            if (_reported.Add(uid))
            {
                await ReportAsync(uid, claim, current is null ? "deleted" : "replaced").ConfigureAwait(false);
            }
        }

        return stale;
    }

    private async Task ReportAsync(string uid, CheckpointClaim claim, string kind)
    {
        var devices = string.Join(",", claim.Devices.Select(d => d.Name));
        _stale.Inc(kind);
        LogStale(_logger, claim.Namespace, claim.Name, uid, kind, devices);
        await _events.RecordAsync(EventSeverity.Warning, "PreparedClaimGone",
            $"claim {claim.Namespace}/{claim.Name} ({uid}) was {kind} on the API server but the kubelet still has it prepared on this node; its devices {devices} stay with it until the kubelet unprepares it").ConfigureAwait(false);
    }
}
