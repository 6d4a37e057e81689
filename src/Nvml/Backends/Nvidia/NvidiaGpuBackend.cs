using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.Nvml.Native;
using SecureDra.Nvml.Native.Nvml;

namespace SecureDra.Nvml.Backends.Nvidia;

/// <summary>
/// Real GPUs: NVML for inventory, processes and health events; the CUDA driver API (device chosen by
/// PCI bus id) for the scrubber's memory sessions. NVML is initialised on first use and shut down on
/// dispose. Without a driver every call fails with a "no NVIDIA driver: …" <see cref="GpuBackendException"/>.
/// </summary>
public sealed partial class NvidiaGpuBackend : IGpuBackend
{
    private readonly NvidiaBackendOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private NvmlLibrary? _nvml;

    public NvidiaGpuBackend(NvidiaBackendOptions options, TimeProvider timeProvider, ILogger<NvidiaGpuBackend>? logger = null)
    {
        _options = options ?? new NvidiaBackendOptions();
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public string Kind => "nvidia";

    public Task<IReadOnlyList<GpuDevice>> EnumerateAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var nvml = Nvml();
        var driver = NvidiaNames.DriverVersion(nvml.GetDriverVersion());
        var cuda = NvidiaNames.CudaVersion(nvml.GetCudaDriverVersion());
        var count = nvml.GetDeviceCount();
        var devices = new List<GpuDevice>(count);
        for (var i = 0; i < count; i++)
        {
            var handle = nvml.GetHandleByIndex(i);
            var (major, minor) = nvml.GetCudaComputeCapability(handle);
            var deviceMinor = nvml.GetMinorNumber(handle);
            devices.Add(new GpuDevice(
                Name: $"gpu-{i}",
                Index: i,
                Uuid: nvml.GetUuid(handle),
                ProductName: nvml.GetName(handle),
                Brand: NvidiaNames.Brand(nvml.GetBrand(handle)),
                Architecture: NvidiaNames.Architecture(nvml.GetArchitecture(handle)),
                CudaComputeCapability: $"{major}.{minor}",
                DriverVersion: driver,
                CudaDriverVersion: cuda,
                PciBusId: nvml.GetPciInfo(handle).BusIdString,
                Minor: deviceMinor,
                MemoryBytes: (long)nvml.GetMemoryInfo(handle).Total,
                DeviceNodePaths: [$"/dev/nvidia{deviceMinor}"])
            {
                MigEnabled = nvml.GetMigEnabled(handle) ?? false,
            });
        }

        return Task.FromResult<IReadOnlyList<GpuDevice>>(devices);
    }

    public Task<IReadOnlyList<GpuProcess>> GetRunningProcessesAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        cancellationToken.ThrowIfCancellationRequested();
        var nvml = Nvml();
        var handle = nvml.GetHandleByUuid(device.Uuid);
        IReadOnlyList<GpuProcess> processes = nvml.GetComputeRunningProcesses(handle)
            .Select(p => new GpuProcess((int)p.Pid, p.UsedGpuMemory == NvmlProcessInfo.ValueNotAvailable ? -1 : (long)p.UsedGpuMemory))
            .ToArray();
        return Task.FromResult(processes);
    }

    public Task<IDeviceMemorySession> OpenMemorySessionAsync(GpuDevice device, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(device);
        cancellationToken.ThrowIfCancellationRequested();
        if (string.IsNullOrEmpty(device.PciBusId))
        {
            throw new GpuBackendException($"device {device.Name} has no PCI bus id; refusing to pick a CUDA device by ordinal");
        }

        return Task.FromResult<IDeviceMemorySession>(NvidiaMemorySession.Open(device.PciBusId));
    }

    /// <summary>
    /// Xid (except application Xids), double-bit ECC and GPU-lost events from an NVML event set,
    /// waited on by a dedicated thread (nvmlEventSetWait_v2 blocks).
    /// </summary>
    public async IAsyncEnumerable<GpuHealthEvent> WatchHealthAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var devices = await EnumerateAsync(cancellationToken).ConfigureAwait(false);
        var nvml = Nvml();
        var channel = Channel.CreateUnbounded<GpuHealthEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var thread = new Thread(() => WaitForEvents(nvml, devices, channel.Writer, stop.Token))
        {
            IsBackground = true,
            Name = "nvml-health-events",
        };
        thread.Start();
        try
        {
            await foreach (var healthEvent in ReadAllOrStop(channel.Reader, cancellationToken).ConfigureAwait(false))
            {
                yield return healthEvent;
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            thread.Join(_options.EventWaitTimeout * 3);
        }
    }

    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _nvml?.Dispose();
            _nvml = null;
        }

        return ValueTask.CompletedTask;
    }

    private static async IAsyncEnumerable<GpuHealthEvent> ReadAllOrStop(ChannelReader<GpuHealthEvent> reader, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    yield break;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                yield break;
            }

            while (reader.TryRead(out var item))
            {
                yield return item;
            }
        }
    }

    private void WaitForEvents(NvmlLibrary nvml, IReadOnlyList<GpuDevice> devices, ChannelWriter<GpuHealthEvent> writer, CancellationToken stop)
    {
        try
        {
            using var set = nvml.CreateEventSet();
            var names = new Dictionary<nint, string>();
            foreach (var device in devices)
            {
                var handle = nvml.GetHandleByUuid(device.Uuid);
                names[handle.Value] = device.Name;
                var wanted = NvmlEventTypes.XidCriticalError | NvmlEventTypes.DoubleBitEccError;
                var supported = nvml.GetSupportedEventTypes(handle) & wanted;
                if (supported == 0)
                {
                    LogNoEvents(_logger, device.Name);
                    continue;
                }

                nvml.RegisterEvents(handle, supported, set);
            }

            var timeoutMs = (uint)Math.Clamp(_options.EventWaitTimeout.TotalMilliseconds, 1, 60_000);
            while (!stop.IsCancellationRequested)
            {
                NvmlEventData? data;
                try
                {
                    data = nvml.WaitForEvent(set, timeoutMs);
                }
                catch (NvmlException e) when (e.Code == NvmlReturn.GpuIsLost)
                {
                    foreach (var device in devices)
                    {
                        writer.TryWrite(new GpuHealthEvent(device.Name, GpuHealthEventKind.GpuLost, 0, _timeProvider.GetUtcNow(), e.Message));
                    }

                    return;
                }

                if (data is not { } d)
                {
                    continue;
                }

                var name = names.GetValueOrDefault(d.Device, "unknown");
                if ((d.EventType & NvmlEventTypes.XidCriticalError) != 0)
                {
                    if (_options.ApplicationXids.Contains(d.EventData))
                    {
                        LogApplicationXid(_logger, name, d.EventData);
                        continue;
                    }

                    writer.TryWrite(new GpuHealthEvent(name, GpuHealthEventKind.Xid, d.EventData, _timeProvider.GetUtcNow(), $"Xid {d.EventData}"));
                }
                else if ((d.EventType & NvmlEventTypes.DoubleBitEccError) != 0)
                {
                    writer.TryWrite(new GpuHealthEvent(name, GpuHealthEventKind.DoubleBitEcc, d.EventData, _timeProvider.GetUtcNow(), "double-bit ECC error"));
                }
            }
        }
        catch (GpuBackendException e)
        {
            LogWatchFailed(_logger, e.Message);
        }
        finally
        {
            writer.TryComplete();
        }
    }

    private NvmlLibrary Nvml()
    {
        lock (_gate)
        {
            if (_nvml is not null)
            {
                return _nvml;
            }

            try
            {
                _nvml = NvmlLibrary.Open();
                return _nvml;
            }
            catch (NativeLibraryUnavailableException e)
            {
                throw new GpuBackendException($"no NVIDIA driver: {e.Message}", e);
            }
            catch (NvmlException e)
            {
                throw new GpuBackendException(
                    $"no NVIDIA driver: {e.Function} returned {(int)e.Code} ({e.ErrorString}); is the nvidia kernel module loaded and /dev/nvidiactl present? Use --gpu-backend simulated to run without GPUs", e);
            }
        }
    }
}
