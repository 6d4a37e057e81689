using Microsoft.Extensions.Hosting;

namespace SecureDra.Controller.Leadership;

/// <summary>Runs the elector for the life of the host; stopping the host releases the lease.</summary>
public sealed class LeaderElectionService(LeaseLeaderElector elector) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => elector.RunAsync(stoppingToken);
}
