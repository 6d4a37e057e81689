using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using SecureDra.Api;
using SecureDra.Api.Config.Nvidia;
using SecureDra.Api.Manifests;
using SecureDra.Api.Validation;

using SecureDra.Cli.Hosting;

namespace SecureDra.Cli.Commands;

/// <summary>
/// <c>securedra validate FILE…</c>: checks ResourceClaim, ResourceClaimTemplate and DeviceClass
/// manifests (YAML or JSON, any number of documents) or raw GpuConfig JSON offline, with the same
/// validator the webhook and the kubelet plugin run. Prints <c>FILE: path: message</c> per violation.
/// Exit codes: 0 clean, 1 violations, 2 usage errors (bad flag value, missing file).
/// A file with no object in it (empty, only comments or <c>---</c>) is a violation unless
/// <c>--allow-empty</c> says it is expected: in a CI gate a truncated or empty manifest must not pass,
/// as <c>kubectl apply</c> refuses one ("no objects passed to apply").
/// </summary>
internal static partial class ValidateCommand
{
    public const int ExitClean = 0;
    public const int ExitViolations = 1;
    public const int ExitUsage = 2;

    public static Command Create()
    {
        var files = new Argument<string[]>("FILE")
        {
            Description = "Manifest files (YAML or JSON; multi-document YAML is fine) or raw GpuConfig JSON files.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var driverName = EnvOption.Flag("--driver-name", "Only opaque configs for this driver are checked", DriverConstants.DefaultDriverName, "DRIVER_NAME");
        var maxConfigBytes = EnvOption.Flag("--max-config-bytes", $"Lower the opaque parameters size limit, 1..{DriverConstants.OpaqueParametersMaxBytes} bytes", DriverConstants.OpaqueParametersMaxBytes.ToString(CultureInfo.InvariantCulture), "MAX_CONFIG_BYTES");
        var configOrigin = EnvOption.Flag("--config-origin", "Judge raw GpuConfig files as coming from a 'claim' (strictest) or a 'class'", "claim", "CONFIG_ORIGIN");
        var outputFormat = new Option<string>("--output")
        {
            Description = "text (one FILE: path: message line per violation) or json (one document with every file's result)",
            DefaultValueFactory = _ => "text",
        };

        // ALLOW_EMPTY is the name the variable had before the scheme: still read, with a deprecation warning.
        var allowEmpty = EnvFlag.Create("--allow-empty", "Accept a file with no objects in it (empty, only comments); by default it is a violation", "ALLOW_EMPTY");

        var vendor = EnvOption.Flag("--vendor", "Whose config kinds the driver's opaque configs are: 'securedra' (resource.securedra.io GpuConfig, the plugin) or 'nvidia' (resource.nvidia.com/v1beta1 kinds under the proxy's policy)", "securedra");
        var allowMps = EnvFlag.Create("--allow-mps", "With --vendor nvidia: accept MPS sharing, as the proxy's --allow-mps");
        var allowVfio = EnvFlag.Create("--allow-vfio", "With --vendor nvidia: accept VfioDeviceConfig, as the proxy's --allow-vfio");
        var allowComputeDomain = EnvFlag.Create("--allow-compute-domain", "With --vendor nvidia: accept compute-domain configs, as the proxy's --allow-compute-domain");

        var command = new Command("validate", "Validate ResourceClaim, ResourceClaimTemplate, DeviceClass YAML or raw GpuConfig JSON offline.")
        {
            files, driverName, maxConfigBytes, configOrigin, allowEmpty, outputFormat, vendor, allowMps, allowVfio, allowComputeDomain,
        };
        command.Action = new ValidateAction(files, driverName, maxConfigBytes, configOrigin, allowEmpty, outputFormat, new VendorOptions(vendor, allowMps, allowVfio, allowComputeDomain));
        return command;
    }

    private sealed record Settings(string DriverName, int MaxConfigBytes, ConfigOrigin RawOrigin, bool AllowEmpty, NvidiaConfigPolicy? Nvidia);

    private sealed record VendorOptions(EnvOption Vendor, EnvFlag AllowMps, EnvFlag AllowVfio, EnvFlag AllowComputeDomain);

    /// <summary>
    /// Handles its own parse errors so that every usage error, including an unknown flag or a flag
    /// without its value, is one line on stderr and exit code 2 (System.CommandLine's default is 1,
    /// which here means "violations found").
    /// </summary>
    private sealed class ValidateAction(
        Argument<string[]> files,
        EnvOption driverName,
        EnvOption maxConfigBytes,
        EnvOption configOrigin,
        EnvFlag allowEmpty,
        Option<string> outputFormat,
        VendorOptions vendorOptions) : AsynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override async Task<int> InvokeAsync(ParseResult parseResult, CancellationToken cancellationToken = default)
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            if (parseResult.Errors.Count > 0)
            {
                await error.WriteLineAsync($"securedra validate: {parseResult.Errors[0].Message}").ConfigureAwait(false);
                return ExitUsage;
            }

            var settings = ReadSettings(parseResult, out var usageError);
            if (settings is null)
            {
                await error.WriteLineAsync($"securedra validate: {usageError}").ConfigureAwait(false);
                return ExitUsage;
            }

            // Only a valid invocation warns: a usage error stays one line.
            EnvOption.WarnDeprecated(parseResult, error);
            var format = parseResult.GetValue(outputFormat);
            if (format is not ("text" or "json"))
            {
                await error.WriteLineAsync($"securedra validate: --output: {DisplayText.Quote(format ?? "")} is not text or json").ConfigureAwait(false);
                return ExitUsage;
            }

            var json = format == "json";
            var fileResults = new List<ValidateFileResult>();
            var paths = parseResult.GetValue(files) ?? [];
            if (paths.Length == 0)
            {
                await error.WriteLineAsync("securedra validate: no FILE given; usage: securedra validate FILE...").ConfigureAwait(false);
                return ExitUsage;
            }

            foreach (var path in paths)
            {
                if (!File.Exists(path))
                {
                    await error.WriteLineAsync($"securedra validate: {path}: no such file").ConfigureAwait(false);
                    return ExitUsage;
                }
            }

            var limits = new GpuConfigLimits { MaxBytes = settings.MaxConfigBytes };
            IGpuConfigValidator configValidator = settings.Nvidia is { } policy
                ? new NvidiaResourceConfigValidator(new NvidiaOpaqueConfigValidator(limits), policy)
                : new GpuConfigValidator(limits);
            var validator = new ManifestValidator(
                new ManifestReader(),
                new ResourceObjectValidator(configValidator, settings.DriverName),
                settings.RawOrigin);

            int violations = 0, checkedObjects = 0, skipped = 0;
            foreach (var path in paths)
            {
                ManifestValidationResult result;
                try
                {
                    result = await validator.ValidateFileAsync(path, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    await error.WriteLineAsync($"securedra validate: {path}: {ex.Message}").ConfigureAwait(false);
                    return ExitUsage;
                }

                if (json)
                {
                    fileResults.Add(new ValidateFileResult(path, result.Checked, result.Skipped,
                        [.. result.Errors.Select(e => new ValidateViolation(e.Path, e.Message))]));
                }
                else
                {
                    foreach (var violation in result.Errors)
                    {
                        await output.WriteLineAsync($"{path}: {violation}").ConfigureAwait(false);
                    }
                }

                violations += result.Errors.Count;
                if (result.Errors.Count == 0 && result.Checked + result.Skipped == 0 && !settings.AllowEmpty)
                {
                    await output.WriteLineAsync($"{path}: {ErrorPath.RootSymbol}: no objects in the file (empty or only comments); pass --allow-empty if that is expected").ConfigureAwait(false);
                    violations++;
                }
                checkedObjects += result.Checked;
                skipped += result.Skipped;
            }

            if (json)
            {
                var document = new ValidateOutput(violations == 0, paths.Length, checkedObjects, skipped, violations, fileResults);
                await output.WriteLineAsync(JsonSerializer.Serialize(document, ValidateOutputJsonContext.Default.ValidateOutput)).ConfigureAwait(false);
            }

            await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"securedra validate: {paths.Length} file(s), {checkedObjects} object(s) checked, {skipped} skipped, {violations} violation(s)")).ConfigureAwait(false);
            return violations == 0 ? ExitClean : ExitViolations;
        }

        private Settings? ReadSettings(ParseResult parseResult, out string usageError)
        {
            usageError = string.Empty;

            var driver = parseResult.GetValue(driverName) ?? DriverConstants.DefaultDriverName;
            if (!DnsSubdomain().IsMatch(driver) || driver.Length > 253)
            {
                usageError = $"--driver-name: {DisplayText.Quote(driver)} is not a DNS subdomain (lowercase letters, digits, '-' and '.', at most 253 characters)";
                return null;
            }

            var empty = parseResult.GetValue(allowEmpty);
            var maxText = parseResult.GetValue(maxConfigBytes);
            var max = DriverConstants.OpaqueParametersMaxBytes;
            if (maxText is not null
                && (!int.TryParse(maxText, NumberStyles.None, CultureInfo.InvariantCulture, out max) || max < 1 || max > DriverConstants.OpaqueParametersMaxBytes))
            {
                usageError = $"--max-config-bytes: {DisplayText.Quote(maxText)} is not an integer from 1 to {DriverConstants.OpaqueParametersMaxBytes}";
                return null;
            }

            var originText = parseResult.GetValue(configOrigin) ?? "claim";
            ConfigOrigin origin;
            switch (originText)
            {
                case "claim":
                    origin = ConfigOrigin.Claim;
                    break;
                case "class":
                    origin = ConfigOrigin.DeviceClass;
                    break;
                default:
                    usageError = $"--config-origin: {DisplayText.Quote(originText)} is not claim or class";
                    return null;
            }

            var vendorText = parseResult.GetValue(vendorOptions.Vendor) ?? "securedra";
            if (vendorText is not ("securedra" or "nvidia"))
            {
                usageError = $"--vendor: {DisplayText.Quote(vendorText)} is not securedra or nvidia";
                return null;
            }

            var mps = parseResult.GetValue(vendorOptions.AllowMps);
            var vfio = parseResult.GetValue(vendorOptions.AllowVfio);
            var computeDomain = parseResult.GetValue(vendorOptions.AllowComputeDomain);
            if (vendorText != "nvidia" && (mps || vfio || computeDomain))
            {
                usageError = "--allow-mps, --allow-vfio and --allow-compute-domain apply only with --vendor nvidia";
                return null;
            }

            var nvidia = vendorText == "nvidia" ? new NvidiaConfigPolicy(mps, vfio, computeDomain) : null;
            return new Settings(driver, max, origin, empty, nvidia);
        }
    }

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", RegexOptions.CultureInvariant)]
    private static partial Regex DnsSubdomain();
}

/// <summary><c>validate --output json</c>: one document for the whole run.</summary>
internal sealed record ValidateOutput(bool Valid, int Files, int Checked, int Skipped, int Violations, IReadOnlyList<ValidateFileResult> Results);

internal sealed record ValidateFileResult(string File, int Checked, int Skipped, IReadOnlyList<ValidateViolation> Violations);

/// <summary>Path is the field path inside the file (e.g. <c>spec.devices.config[0].opaque.parameters.resetPolicy</c>).</summary>
internal sealed record ValidateViolation(string Path, string Message);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(ValidateOutput))]
internal sealed partial class ValidateOutputJsonContext : JsonSerializerContext;
