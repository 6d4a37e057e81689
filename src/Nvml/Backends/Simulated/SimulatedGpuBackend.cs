using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SecureDra.Nvml.Backends.Simulated;

/// <summary>
/// GPUs without a GPU: each device's memory is the file <c>DIR/&lt;device&gt;.vram</c> of exactly the
/// configured size, memory-mapped by <see cref="SimulatedMemorySession"/>, so a scrub really writes
/// bytes that a test (or an operator) can read back. With <see cref="SimulatedGpuOptions.FaultFiles"/> on
/// (tests, the demo and the test build of securedra only; docs/shipped-binary.md), faults come from
/// <c>DIR/&lt;device&gt;.faults.json</c> (format: <see cref="SimulatedFaultFile"/>), re-read on every
/// operation so another process can inject them; <see cref="SetFaults"/> and <see cref="InjectHealthEvent"/> are the in-process API.
/// Backing files are created on first enumeration and never recreated by this instance, so a
/// vanished file is a clean failure.
/// </summary>
public sealed partial class SimulatedGpuBackend : IGpuBackend
{
    private readonly SimulatedGpuOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<GpuDevice> _devices;
    private readonly Lock _gate = new();
    private readonly List<Channel<GpuHealthEvent>> _subscribers = [];
    private bool _created;

    public SimulatedGpuBackend(SimulatedGpuOptions options, TimeProvider timeProvider, ILogger<SimulatedGpuBackend>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _devices = Enumerable.Range(0, options.DeviceCount).Select(i => SimulatedDeviceCatalog.Device(i, options.MemoryBytes)).ToArray();
    }

    public string Kind => "simulated";

    public string VramDirectory => _options.VramDirectory;

    public string VramPath(string deviceName) => Path.Combine(_options.VramDirectory, deviceName + ".vram");

    public Task<IReadOnlyList<GpuDevice>> EnumerateAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        EnsureBackingFiles();

        // MIG mode lives in the fault file so another process can switch it, like nvidia-smi -mig 1 would.
        IReadOnlyList<GpuDevice> devices = [.. _devices.Select(d => MigMode(d.Name) ? d with { MigEnabled = true } : d)];
        return Task.FromResult(devices);
    }

    /// <summary>An unreadable fault file does not fail enumeration; every memory operation on that device fails closed on it instead.</summary>
    private bool MigMode(string deviceName)
    {
        try
        {
            var faults = ReadFaults(deviceName);
            return faults.MigEnabled || faults.MigPending;
        }
        catch (GpuBackendException)
        {
            return false;
        }
    }

    public Task<IReadOnlyList<GpuProcess>> GetRunningProcessesAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        cancellationToken.ThrowIfCancellationRequested();
        var faults = ReadFaults(Known(device).Name);
        IReadOnlyList<GpuProcess> processes = (faults.RunningProcesses ?? []).Select(p => new GpuProcess(p.Pid, p.UsedMemoryBytes)).ToArray();
        return Task.FromResult(processes);
    }

    public Task<IDeviceMemorySession> OpenMemorySessionAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        cancellationToken.ThrowIfCancellationRequested();
        EnsureBackingFiles();
        var known = Known(device);
        var faults = ReadFaults(known.Name);
        if (faults.FailSession)
        {
            throw new GpuBackendException($"simulated device {known.Name}: memory session failed (injected fault failSession)");
        }

        var path = VramPath(known.Name);
        if (!File.Exists(path))
        {
            throw new GpuBackendException($"simulated VRAM file {path} vanished: the device's memory is gone");
        }

        var size = _options.MemoryBytes;
        IDeviceMemorySession session = new SimulatedMemorySession(path, size, 0, size, _options.ReservedBytes, () => ReadFaults(known.Name),
            faults => SimulatedMigBackend.StuckByteOffset(faults, size));
        return Task.FromResult(session);
    }

    public async IAsyncEnumerable<GpuHealthEvent> WatchHealthAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateUnbounded<GpuHealthEvent>(new UnboundedChannelOptions { SingleReader = true });
        lock (_gate)
        {
            _subscribers.Add(channel);
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var poller = _options.FaultFiles ? PollFaultFilesAsync(channel.Writer, cts.Token) : Task.CompletedTask;
        try
        {
            while (true)
            {
                GpuHealthEvent next;
                try
                {
                    if (!await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        yield break;
                    }

                    if (!channel.Reader.TryRead(out next!))
                    {
                        continue;
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    yield break;
                }

                yield return next;
            }
        }
        finally
        {
            lock (_gate)
            {
                _subscribers.Remove(channel);
            }

            await cts.CancelAsync().ConfigureAwait(false);
            await poller.ConfigureAwait(false);
        }
    }

    /// <summary>In-process fault injection: writes the device's fault file (the same one other processes see).</summary>
    /// <exception cref="InvalidOperationException">Fault files are off (<see cref="SimulatedGpuOptions.FaultFiles"/>).</exception>
    public void SetFaults(string deviceName, SimulatedFaults faults)
    {
        if (!_options.FaultFiles)
        {
            throw new InvalidOperationException("fault injection is off for this simulated backend (SimulatedGpuOptions.FaultFiles)");
        }

        SimulatedFaultFile.Write(_options.VramDirectory, KnownName(deviceName), faults);
    }

    /// <summary>In-process health event: delivered to every current watcher at once.</summary>
    public void InjectHealthEvent(GpuHealthEvent healthEvent)
    {
        ArgumentNullException.ThrowIfNull(healthEvent);
        lock (_gate)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(healthEvent);
            }
        }
    }

    /// <summary>The device's injected faults; none at all while fault files are off, whatever lies in the directory.</summary>
    private SimulatedFaults ReadFaults(string deviceName) =>
        _options.FaultFiles ? SimulatedFaultFile.Read(_options.VramDirectory, deviceName) : SimulatedFaults.None;

    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryComplete();
            }
        }

        return ValueTask.CompletedTask;
    }

    private async Task PollFaultFilesAsync(ChannelWriter<GpuHealthEvent> writer, CancellationToken cancellationToken)
    {
        var seen = new int[_devices.Count];
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                for (var i = 0; i < _devices.Count; i++)
                {
                    var device = _devices[i];
                    IReadOnlyList<SimulatedHealthEventSpec> events;
                    try
                    {
                        events = ReadFaults(device.Name).HealthEvents ?? [];
                    }
                    catch (GpuBackendException e)
                    {
                        LogBadFaultFile(_logger, device.Name, e.Message);
                        continue;
                    }
                    catch (IOException e)
                    {
                        LogBadFaultFile(_logger, device.Name, e.Message);
                        continue;
                    }

                    // A shorter list means the file was rewritten: start over with what it now holds.
                    if (events.Count < seen[i])
                    {
                        seen[i] = 0;
                    }

                    for (; seen[i] < events.Count; seen[i]++)
                    {
                        var spec = events[seen[i]];
                        var kind = spec.ParseKind();
                        var description = spec.Description ?? (kind == GpuHealthEventKind.Xid ? $"Xid {spec.Data} (simulated)" : $"{kind} (simulated)");
                        writer.TryWrite(new GpuHealthEvent(device.Name, kind, spec.Data, _timeProvider.GetUtcNow(), description));
                    }
                }

                await Task.Delay(_options.HealthPollInterval, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Watcher stopped.
        }
    }

    private void EnsureBackingFiles()
    {
        lock (_gate)
        {
            if (_created)
            {
                return;
            }

            Directory.CreateDirectory(_options.VramDirectory);
            foreach (var device in _devices)
            {
                var path = VramPath(device.Name);
                using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
                if (stream.Length != _options.MemoryBytes)
                {
                    // Sparse: a new device reads as zero and costs no disk until written.
                    stream.SetLength(_options.MemoryBytes);
                }
            }

            _created = true;
        }
    }

    private GpuDevice Known(GpuDevice device) =>
        device.Index >= 0 && device.Index < _devices.Count && _devices[device.Index].Name == device.Name
            ? _devices[device.Index]
            : throw new GpuBackendException($"unknown simulated device {device.Name}");

    private string KnownName(string deviceName) =>
        _devices.Any(d => d.Name == deviceName) ? deviceName : throw new GpuBackendException($"unknown simulated device {deviceName}");
}
