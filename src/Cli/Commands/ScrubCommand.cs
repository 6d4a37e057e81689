using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SecureDra.Cli.Hosting;
using SecureDra.KubeletPlugin.Hosting;
using SecureDra.Nvml;
using SecureDra.Nvml.Backends;
using SecureDra.Nvml.Scrubbing;
using Serilog;

namespace SecureDra.Cli.Commands;

/// <summary>
/// <c>securedra scrub --device &lt;uuid|index|name|all&gt;[,…]</c>: scrubs and verifies the devices now,
/// in parallel, and prints the reports (table, or JSON with <c>--output json</c>). Exit 0 when every
/// scrub succeeded, 1 when any failed or was refused (or the backend could not start), 2 on bad flags.
/// Structured scrub events go to stderr in the one log shape (<see cref="LogSetup"/>).
/// </summary>
internal static class ScrubCommand
{
    public static Command Create()
    {
        var device = EnvOption.OptionalFlag("--device", "Device(s) to scrub: uuid, index, name (gpu-0) or all; comma-separated", "SCRUB_DEVICE");
        var output = EnvOption.Flag("--output", "table or json", "table", "SCRUB_OUTPUT");
        var gpu = new GpuBackendFlags();
        var logSetup = new LogSetup();
        var command = new Command("scrub", "Scrub and verify GPU memory now, and print the report.") { device, output };
        gpu.AddTo(command);
        logSetup.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            GpuBackendOptions options;
            LogSettings logSettings;
            string selector;
            bool json;
            try
            {
                options = gpu.Bind(parseResult, Path.Combine(new KubeletPluginOptions().PluginDataDirectory, "simulated-vram"));
                logSettings = logSetup.Bind(parseResult);
                selector = parseResult.GetValue(device)
                    ?? throw new ArgumentException("--device: required (uuid, index, name or all)");
                json = parseResult.GetValue(output) switch
                {
                    "table" => false,
                    "json" => true,
                    var other => throw new ArgumentException($"--output: must be table or json, got \"{other}\""),
                };
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                return CliInvocation.UsageError(parseResult.CommandResult.Command, e.Message);
            }

            return await RunAsync(options, selector, json, logSettings, parseResult, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(GpuBackendOptions options, string selector, bool json, LogSettings logSettings, ParseResult parseResult, CancellationToken cancellationToken)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddSerilog(LogSetup.CreateLogger(logSettings), dispose: true));
        services.AddGpuLayer(options);
        await using var provider = services.BuildServiceProvider();
        LogSetup.WarnDeprecated(parseResult, provider.GetRequiredService<ILoggerFactory>().CreateLogger("SecureDra.Cli"));
        var backend = provider.GetRequiredService<IGpuBackend>();
        var scrubber = provider.GetRequiredService<IVramScrubber>();

        IReadOnlyList<GpuDevice> all;
        try
        {
            all = await backend.EnumerateAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (GpuBackendException e)
        {
            await Console.Error.WriteLineAsync($"securedra scrub: {e.Message.ReplaceLineEndings(" ")}").ConfigureAwait(false);
            return 1;
        }

        List<GpuDevice> selected;
        try
        {
            selected = Select(all, selector);
        }
        catch (ArgumentException e)
        {
            return CliInvocation.UsageError(parseResult.CommandResult.Command, e.Message);
        }

        var rows = await Task.WhenAll(selected.Select(d => ScrubOneAsync(scrubber, d, cancellationToken))).ConfigureAwait(false);
        await Console.Out.WriteAsync(json
            ? JsonSerializer.Serialize(new ScrubOutput(backend.Kind, rows), ScrubOutputJsonContext.Default.ScrubOutput) + Environment.NewLine
            : Table(rows)).ConfigureAwait(false);
        return rows.All(r => r.Succeeded) ? 0 : 1;
    }

    private static async Task<ScrubRow> ScrubOneAsync(IVramScrubber scrubber, GpuDevice device, CancellationToken cancellationToken)
    {
        var report = await scrubber.ScrubAsync(device, ScrubTrigger.Cli, cancellationToken).ConfigureAwait(false);
        return report.Refused
            ? new ScrubRow(device.Name, device.Uuid, false, false, "refused", device.MemoryBytes, 0, 0, 0, 0, 0, 0, 0, 0, 0, report.FailureReason)
            {
                UncoveredBytes = device.MemoryBytes,
                UnallocatableBytes = device.MemoryBytes,
            }
            : ScrubRow.From(report);
    }

    internal static List<GpuDevice> Select(IReadOnlyList<GpuDevice> devices, string selector)
    {
        if (selector.Trim() == "all")
        {
            return [.. devices];
        }

        var result = new List<GpuDevice>();
        foreach (var token in selector.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var match = devices.FirstOrDefault(d =>
                string.Equals(d.Uuid, token, StringComparison.OrdinalIgnoreCase)
                || d.Name == token
                || (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && d.Index == index))
                ?? throw new ArgumentException($"--device: no device matches \"{token}\" (devices: {string.Join(", ", devices.Select(d => d.Name))})");
            if (!result.Contains(match))
            {
                result.Add(match);
            }
        }

        return result.Count > 0 ? result : throw new ArgumentException("--device: empty selection");
    }

    private static string Table(IReadOnlyList<ScrubRow> rows)
    {
        // COVERAGE is of the device's total memory (MEMORY); the bytes not covered are split into the
        // device's measured reserved baseline (RESERVED) and what could not be allocated now (UNALLOC).
        var header = new[] { "DEVICE", "UUID", "RESULT", "VERIFIED", "ZEROED", "MEMORY", "COVERAGE", "RESERVED", "UNALLOC", "SETUP", "ALLOC", "ZERO", "VERIFY", "FREE-T", "TOTAL", "METHOD", "REASON" };
        var lines = rows.Select(r => new[]
        {
            r.Device, r.Uuid, r.Succeeded ? "OK" : "FAILED", r.Verified ? "yes" : "no",
            Bytes(r.BytesZeroed), Bytes(r.TotalBytes), r.Coverage.ToString("P2", CultureInfo.InvariantCulture),
            Bytes(r.BaselineReservedBytes), Bytes(r.UnallocatableBytes),
            Ms(r.SetupMs), Ms(r.AllocateMs), Ms(r.ZeroMs), Ms(r.VerifyMs), Ms(r.FreeMs), Ms(r.TotalMs), r.Method, r.FailureReason ?? "",
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, lines.Count == 0 ? 0 : lines.Max(l => l[i].Length))).ToArray();
        var sb = new System.Text.StringBuilder();
        foreach (var line in lines.Prepend(header))
        {
            sb.AppendLine(string.Join("  ", line.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
        }

        return sb.ToString();
    }

    private static string Ms(double ms) => ms.ToString("F1", CultureInfo.InvariantCulture) + "ms";

    private static string Bytes(long bytes) => bytes >= 1L << 30
        ? (bytes / (double)(1L << 30)).ToString("F2", CultureInfo.InvariantCulture) + "Gi"
        : (bytes / (double)(1L << 20)).ToString("F1", CultureInfo.InvariantCulture) + "Mi";
}

/// <summary>
/// One device's result as printed: a <see cref="ScrubReport"/> with durations in milliseconds. Coverage is
/// of <see cref="TotalBytes"/>; <see cref="UncoveredBytes"/> = <see cref="BaselineReservedBytes"/> + <see cref="UnallocatableBytes"/>.
/// </summary>
internal sealed record ScrubRow(
    string Device, string Uuid, bool Succeeded, bool Verified, string Method, long TotalBytes, long FreeBytesBefore, long BytesZeroed, double Coverage,
    double SetupMs, double AllocateMs, double ZeroMs, double VerifyMs, double FreeMs, double TotalMs, string? FailureReason)
{
    public long UncoveredBytes { get; init; }

    public long BaselineReservedBytes { get; init; }

    public long UnallocatableBytes { get; init; }

    /// <summary>The device's reserved baseline after this scrub; null while none was measured.</summary>
    public long? BaselineBytes { get; init; }

    public long ToleranceBytes { get; init; }

    public static ScrubRow From(ScrubReport r) => new(r.DeviceName, r.DeviceUuid, r.Succeeded, r.Verified, r.Method, r.TotalBytes, r.FreeBytesBefore,
        r.BytesZeroed, r.Coverage, r.SetupDuration.TotalMilliseconds, r.AllocateDuration.TotalMilliseconds, r.ZeroDuration.TotalMilliseconds,
        r.VerifyDuration.TotalMilliseconds, r.FreeDuration.TotalMilliseconds, r.TotalDuration.TotalMilliseconds, r.FailureReason)
    {
        UncoveredBytes = r.UncoveredBytes,
        BaselineReservedBytes = r.BaselineReservedBytes,
        UnallocatableBytes = r.UnallocatableBytes,
        BaselineBytes = r.BaselineBytes,
        ToleranceBytes = r.ToleranceBytes,
    };
}

internal sealed record ScrubOutput(string Backend, IReadOnlyList<ScrubRow> Reports);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(ScrubOutput))]
internal sealed partial class ScrubOutputJsonContext : JsonSerializerContext;
