using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using SecureDra.Cli.Hosting;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Backends.Simulated;
using SecureDra.Nvml.Scrubbing;

namespace SecureDra.Cli.Commands;

/// <summary>
/// The GPU backend flags every subcommand that touches GPUs shares (kubelet-plugin, scrub, demo):
/// <c>--gpu-backend nvidia|simulated</c> (GPU_BACKEND), <c>--simulated-gpus N</c> (SIMULATED_GPUS),
/// <c>--simulated-memory SIZE</c> (SIMULATED_MEMORY; 256Mi, 1Gi, 65536, Ki/Mi/Gi/Ti suffixes),
/// <c>--simulated-reserved-memory SIZE</c> (SIMULATED_RESERVED_MEMORY), <c>--simulated-vram-dir DIR</c> (SIMULATED_VRAM_DIR) and <c>--scrub-min-coverage F</c>
/// (SCRUB_MIN_COVERAGE). A flag wins over its environment variable. Usage:
/// <code>
/// var gpu = new GpuBackendFlags();
/// gpu.AddTo(command);
/// command.SetAction((parseResult, ct) => { var options = gpu.Bind(parseResult, defaultVramDir); ... });
/// </code>
/// <see cref="Bind"/> throws <see cref="ArgumentException"/> with a one-line message naming the flag.
/// </summary>
internal sealed class GpuBackendFlags
{
    public Option<string?> Backend { get; } = new("--gpu-backend") { Description = "GPU backend: nvidia or simulated (env GPU_BACKEND; default nvidia)" };

    public Option<string?> SimulatedGpus { get; } = new("--simulated-gpus") { Description = "Number of simulated GPUs (env SIMULATED_GPUS; default 8)" };

    public Option<string?> SimulatedMemory { get; } = new("--simulated-memory") { Description = "Memory per simulated GPU, e.g. 256Mi, 1Gi (env SIMULATED_MEMORY; default 256Mi)" };

    public Option<string?> SimulatedReservedMemory { get; } = new("--simulated-reserved-memory") { Description = "Memory each simulated GPU keeps for its driver, never allocatable nor reported free, e.g. 4Mi; a scrub measures it as the GPU's reserved baseline (env SIMULATED_RESERVED_MEMORY; default 0)" };

    public Option<string?> SimulatedVramDir { get; } = new("--simulated-vram-dir") { Description = "Directory for the simulated GPUs' .vram and .faults.json files (env SIMULATED_VRAM_DIR)" };

    public Option<string?> ScrubMinCoverage { get; } = new("--scrub-min-coverage") { Description = "Fraction of a GPU's total memory its first scrub since start must zero and verify, from 0.9 to 1; what that scrub leaves is the GPU's reserved baseline, and every later scrub must cover all but the baseline plus one allocation granule (env SCRUB_MIN_COVERAGE; default 0.99)" };

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Backend);
        command.Options.Add(SimulatedGpus);
        command.Options.Add(SimulatedMemory);
        command.Options.Add(SimulatedReservedMemory);
        command.Options.Add(SimulatedVramDir);
        command.Options.Add(ScrubMinCoverage);
    }

    /// <summary>Flags (else environment, else defaults) → the GPU layer's options, validated.</summary>
    public GpuBackendOptions Bind(ParseResult parseResult, string defaultVramDirectory)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var kind = Value(parseResult, Backend, "GPU_BACKEND") switch
        {
            null or "" or "nvidia" => GpuBackendKind.Nvidia,
            "simulated" => GpuBackendKind.Simulated,
            var other => throw new ArgumentException($"--gpu-backend: must be nvidia or simulated, got \"{other}\""),
        };

        var gpusText = Value(parseResult, SimulatedGpus, "SIMULATED_GPUS");
        var gpus = 8;
        if (gpusText is not null && (!int.TryParse(gpusText, NumberStyles.None, CultureInfo.InvariantCulture, out gpus) || gpus < 1 || gpus > SimulatedGpuOptions.MaxDeviceCount))
        {
            throw new ArgumentException($"--simulated-gpus: must be an integer from 1 to {SimulatedGpuOptions.MaxDeviceCount}, got \"{gpusText}\"");
        }

        var memoryText = Value(parseResult, SimulatedMemory, "SIMULATED_MEMORY") ?? "256Mi";
        var memory = ParseSize(memoryText)
            ?? throw new ArgumentException($"--simulated-memory: must be a size such as 256Mi, 1Gi or 1048576, got \"{memoryText}\"");

        var reservedText = Value(parseResult, SimulatedReservedMemory, "SIMULATED_RESERVED_MEMORY") ?? "0";
        var reserved = ParseSize(reservedText)
            ?? throw new ArgumentException($"--simulated-reserved-memory: must be a size such as 4Mi or 65536, got \"{reservedText}\"");

        var coverageText = Value(parseResult, ScrubMinCoverage, "SCRUB_MIN_COVERAGE");
        var coverage = new GpuBackendOptions().ScrubMinCoverage;
        if (coverageText is not null
            && (!double.TryParse(coverageText, NumberStyles.Float, CultureInfo.InvariantCulture, out coverage) || double.IsNaN(coverage)
                || coverage < ScrubberOptions.LowestMinCoverage || coverage > 1))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--scrub-min-coverage: must be a number from {ScrubberOptions.LowestMinCoverage} to 1 (a fraction of the GPU's total memory), got \"{coverageText}\""));
        }

        var simulated = new SimulatedGpuOptions
        {
            DeviceCount = gpus,
            MemoryBytes = memory,
            ReservedBytes = reserved,
            VramDirectory = Value(parseResult, SimulatedVramDir, "SIMULATED_VRAM_DIR") ?? defaultVramDirectory,
            FaultFiles = TestHooks.Compiled,
        };
        try
        {
            simulated.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException("--" + e.Message, e);
        }

        return new GpuBackendOptions { Kind = kind, Simulated = simulated, ScrubMinCoverage = coverage };
    }

    /// <summary>"256Mi" → 268435456. Suffixes Ki, Mi, Gi, Ti (powers of 1024); none means bytes. Null when malformed or overflowing.</summary>
    public static long? ParseSize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = text.Trim();
        long multiplier = 1;
        foreach (var (suffix, factor) in new[] { ("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("Ti", 1L << 40) })
        {
            if (s.EndsWith(suffix, StringComparison.Ordinal))
            {
                multiplier = factor;
                s = s[..^suffix.Length];
                break;
            }
        }

        if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return null;
        }

        try
        {
            return checked(value * multiplier);
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    private static string? Value(ParseResult parseResult, Option<string?> option, string environmentVariable)
    {
        var value = parseResult.GetValue(option);
        return string.IsNullOrEmpty(value) ? NullIfEmpty(Environment.GetEnvironmentVariable(environmentVariable)) : value;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
