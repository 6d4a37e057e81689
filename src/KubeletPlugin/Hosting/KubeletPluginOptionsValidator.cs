using System.Net;
using SecureDra.KubeletPlugin.Grpc;
using SecureDra.Network;

namespace SecureDra.KubeletPlugin.Hosting;

/// <summary>
/// Checks every flag before anything touches the file system. Each error names the flag and the
/// rule, e.g. <c>--driver-name: "Foo_Bar" is not a valid DNS-1123 subdomain of at most 63 characters</c>.
/// </summary>
public static class KubeletPluginOptionsValidator
{
    /// <summary>Kubernetes caps <c>spec.driver</c> of ResourceSlices at 63 characters.</summary>
    public const int MaxDriverNameLength = 63;

    /// <summary>Pod UIDs are UUIDs; the name goes into socket file names, so only [A-Za-z0-9-] is accepted.</summary>
    public const int MaxPodUidLength = 128;

    public static IReadOnlyList<string> Validate(KubeletPluginOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (!DnsNames.IsSubdomain(options.DriverName, MaxDriverNameLength))
        {
            errors.Add($"--driver-name: \"{Clip(options.DriverName)}\" is not a valid DNS-1123 subdomain of at most {MaxDriverNameLength} characters");
        }

        if (string.IsNullOrEmpty(options.NodeName))
        {
            errors.Add("--node-name: required (or set NODE_NAME)");
        }
        else if (!DnsNames.IsSubdomain(options.NodeName, DnsNames.MaxSubdomainLength))
        {
            errors.Add($"--node-name: \"{Clip(options.NodeName)}\" is not a valid DNS-1123 subdomain of at most {DnsNames.MaxSubdomainLength} characters");
        }

        CheckAbsolute(errors, "--kubelet-registrar-directory-path", options.KubeletRegistrarDirectoryPath);
        CheckAbsolute(errors, "--kubelet-plugins-directory-path", options.KubeletPluginsDirectoryPath);
        CheckAbsolute(errors, "--cdi-root", options.CdiRoot);

        if (options.PodUid is { } podUid && !IsPodUid(podUid))
        {
            errors.Add($"--pod-uid: \"{Clip(podUid)}\" must be 1 to {MaxPodUidLength} characters of [A-Za-z0-9-]");
        }

        if (options.HttpEndpoint is { } endpoint && !TryParseHttpEndpoint(endpoint, out _))
        {
            errors.Add($"--http-endpoint: \"{Clip(endpoint)}\" is not an IP address and port such as 127.0.0.1:8080 or [::1]:8080");
        }

        if (options.HttpLimits.Validate("--http-max-connections", "--http-idle-timeout") is { } limits)
        {
            errors.Add(limits);
        }
        else if (options.HttpEndpoint is not null &&
            DescriptorBudget.Check(DescriptorLimit.Current(), options.DescriptorReserve, ("--http-max-connections", options.HttpLimits)) is { } budget)
        {
            errors.Add(budget);
        }

        if (options.TrimMemoryWhenIdle < TimeSpan.Zero || options.TrimMemoryWhenIdle > KubeletPluginOptions.MaxTrimMemoryWhenIdle)
        {
            errors.Add($"--trim-memory-when-idle: {options.TrimMemoryWhenIdle} is outside 0 (off) to {KubeletPluginOptions.MaxTrimMemoryWhenIdle}");
        }

        if (options.LogFormat is not ("json" or "text"))
        {
            errors.Add($"--log-format: \"{Clip(options.LogFormat)}\" is not one of json, text");
        }

        // An http(s) URL names an API server directly (the local stand-in in the demo and tests).
        if (options.Kubeconfig is { } kubeconfig && !IsServerUrl(kubeconfig) && (kubeconfig.Length == 0 || !File.Exists(kubeconfig)))
        {
            errors.Add($"--kubeconfig: file \"{Clip(kubeconfig)}\" does not exist (give a kubeconfig file or an http(s):// API server URL, or leave it unset for in-cluster config)");
        }

        return errors;
    }

    /// <summary>Accepts an IP literal with a non-zero port: <c>127.0.0.1:8080</c>, <c>[::1]:8080</c>, <c>0.0.0.0:8080</c>.</summary>
    public static bool TryParseHttpEndpoint(string value, out IPEndPoint endpoint)
    {
        if (IPEndPoint.TryParse(value, out var parsed) && parsed.Port != 0)
        {
            endpoint = parsed;
            return true;
        }

        endpoint = null!;
        return false;
    }

    private static bool IsPodUid(string value) =>
        value.Length is > 0 and <= MaxPodUidLength && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    private static void CheckAbsolute(List<string> errors, string flag, string value)
    {
        if (string.IsNullOrEmpty(value) || !Path.IsPathFullyQualified(value) || value.Contains('\0', StringComparison.Ordinal))
        {
            errors.Add($"{flag}: \"{Clip(value)}\" must be an absolute path");
        }
    }

    internal static string Clip(string value) => value.Length <= 80 ? value : string.Concat(value.AsSpan(0, 80), "…");

    private static bool IsServerUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Host.Length > 0;
}
