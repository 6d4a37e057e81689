using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using SecureDra.KubeletPlugin.Proxy;
using SecureDra.Nvml.Backends;
using SecureDra.Observability.Metrics;
using Wire = SecureDra.Protocol.MigManager.V1;

namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>
/// One gRPC channel to the MIG manager's socket and the rules every call follows: a deadline on each call, answers
/// bounded by <see cref="MigManagerOptions.MaxResponseBytes"/> and checked field by field (<see cref="MigManagerWire"/>),
/// the manager's MIG errors re-thrown as the local backend would (<see cref="MigManagerErrors"/>), and anything else —
/// no socket, refused, deadline, a malformed answer — a <see cref="MigManagerUnavailableException"/> (log event 6962,
/// metric <c>securedra_mig_manager_client_failures_total{operation}</c>), which leaves MIG devices withdrawn. Until
/// the manager has answered once, an unreachable socket is retried for <see cref="MigManagerClientOptions.StartupGrace"/>.
/// </summary>
public sealed partial class MigManagerClient : IDisposable
{
    private readonly MigManagerClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly GrpcChannel _channel;
    private readonly Wire.MigManager.MigManagerClient _client;
    private readonly Counter _failures;
    private readonly long _created;
    private volatile bool _answered;

    public MigManagerClient(MigManagerClientOptions options, MetricsRegistry metrics, TimeProvider time, ILogger<MigManagerClient> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        options.Validate();
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = logger;
        _channel = VendorChannel.Create(options.SocketPath, MigManagerOptions.MaxResponseBytes);
        _client = new Wire.MigManager.MigManagerClient(_channel);
        _failures = metrics.Counter("securedra_mig_manager_client_failures_total",
            "Calls from the plugin to the MIG manager that got no usable answer (unreachable, deadline, malformed), by operation.", "operation");
        _created = _time.GetTimestamp();
    }

    public MigManagerClientOptions Options => _options;

    public Wire.MigManager.MigManagerClient Raw => _client;

    public Task<T> CallAsync<T>(string operation, Func<Wire.MigManager.MigManagerClient, CallOptions, AsyncUnaryCall<T>> call, CancellationToken cancellationToken) =>
        CallAsync(operation, call, _options.CallTimeout, cancellationToken);

    /// <param name="startupGrace">False for a call whose point is to find out whether the manager answers now (the monitor's ping).</param>
    public async Task<T> CallAsync<T>(string operation, Func<Wire.MigManager.MigManagerClient, CallOptions, AsyncUnaryCall<T>> call, TimeSpan timeout, CancellationToken cancellationToken, bool startupGrace = true)
    {
        ArgumentNullException.ThrowIfNull(call);
        var attempt = 0;
        while (true)
        {
            attempt++;
            try
            {
                var deadline = _time.GetUtcNow().UtcDateTime + timeout;
                var answer = await call(_client, new CallOptions(deadline: deadline, cancellationToken: cancellationToken)).ResponseAsync.ConfigureAwait(false);
                _answered = true;
                return answer;
            }
            catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
            {
                var mapped = MigManagerErrors.FromRpc(e, operation, _options.SocketPath);
                if (mapped is not MigManagerUnavailableException)
                {
                    _answered = true;
                    throw mapped;
                }

                if (startupGrace && e.StatusCode == StatusCode.Unavailable && await InGraceAsync(attempt, cancellationToken).ConfigureAwait(false))
                {
                    continue;
                }

                Failed(operation, mapped.Message);
                throw mapped;
            }
        }
    }

    /// <summary>Converts an answer with <paramref name="map"/>; a malformed one is the manager being unusable.</summary>
    public T Check<T>(string operation, Func<T> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        try
        {
            return map();
        }
        catch (ArgumentException e)
        {
            var message = $"MIG manager at {_options.SocketPath} gave a malformed answer to {operation}: {e.Message}";
            Failed(operation, message);
            throw new MigManagerUnavailableException(message, e);
        }
    }

    public void Dispose() => _channel.Dispose();

    private async Task<bool> InGraceAsync(int attempt, CancellationToken cancellationToken)
    {
        if (_answered || _time.GetElapsedTime(_created) >= _options.StartupGrace)
        {
            return false;
        }

        var delay = TimeSpan.FromMilliseconds(Math.Min(2000, 100 * (1 << Math.Min(attempt, 5))));
        await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private void Failed(string operation, string message)
    {
        _failures.Inc(operation);
        LogCallFailed(_logger, operation, message);
    }
}
