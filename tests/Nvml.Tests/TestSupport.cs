using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Nvml.Scrubbing;
using SecureDra.Observability.Metrics;

namespace SecureDra.Nvml.Tests;

/// <summary>Captures structured log events (name + properties) for assertions.</summary>
public sealed class CapturingLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(string EventName, LogLevel Level, IReadOnlyDictionary<string, object?> Properties)> Events { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var properties = state is IEnumerable<KeyValuePair<string, object?>> pairs
            ? pairs.ToDictionary(p => p.Key, p => p.Value)
            : new Dictionary<string, object?>();
        Events.Enqueue((eventId.Name ?? "", logLevel, properties));
    }
}

/// <summary>A simulated node plus a scrubber over it, wired like production.</summary>
public sealed class SimulatedNode : IAsyncDisposable
{
    private readonly TempDir _dir = new();

    public SimulatedNode(int gpus = 2, long memoryBytes = 8L * 1024 * 1024, Action<ScrubberOptions>? configure = null, IGpuBackend? wrap = null)
    {
        Backend = new SimulatedGpuBackend(
            new SimulatedGpuOptions { DeviceCount = gpus, MemoryBytes = memoryBytes, VramDirectory = _dir.Path, FaultFiles = true, HealthPollInterval = TimeSpan.FromMilliseconds(20) },
            TimeProvider.System);
        var options = new ScrubberOptions { InitialChunkBytes = 1024 * 1024, MinChunkBytes = 64 * 1024 };
        configure?.Invoke(options);
        Scrubber = new VramScrubber(wrap ?? Backend, Options.Create(options), TimeProvider.System, new ScrubMetrics(Metrics), Logger);
    }

    public string Directory => _dir.Path;
    public SimulatedGpuBackend Backend { get; }
    public MetricsRegistry Metrics { get; } = new();
    public CapturingLogger<VramScrubber> Logger { get; } = new();
    public VramScrubber Scrubber { get; }

    public async Task<GpuDevice> DeviceAsync(int index) => (await Backend.EnumerateAsync(CancellationToken.None))[index];

    public async ValueTask DisposeAsync()
    {
        await Backend.DisposeAsync();
        _dir.Dispose();
    }
}
