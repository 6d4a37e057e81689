using System.CommandLine;
using SecureDra.Cli.Hosting;
using SecureDra.Controller.Audit;

namespace SecureDra.Cli.Commands;

/// <summary>
/// The names of the hardened install's objects that the auditor looks for, shared by <c>securedra audit</c> and
/// <c>securedra controller</c>. Defaults are what the Helm chart renders with its default values; the chart passes
/// its real names (they follow <c>fullnameOverride</c>) to the controller. List flags are comma-separated.
/// </summary>
internal sealed class AuditNameFlags
{
    private static readonly HardeningAuditOptions Defaults = new();

    public EnvOption PluginServiceAccount { get; } = EnvOption.Flag("--plugin-service-account", "Service account of the kubelet plugin.", Defaults.PluginServiceAccount, "PLUGIN_SERVICE_ACCOUNT");

    public EnvOption ControllerServiceAccount { get; } = EnvOption.Flag("--controller-service-account", "Service account of the controller.", Defaults.ControllerServiceAccount, "CONTROLLER_SERVICE_ACCOUNT");

    public EnvOption ResourceSlicePolicy { get; } = EnvOption.Flag("--resourceslice-policy-name", "Name of the node-scoped ResourceSlice ValidatingAdmissionPolicy.", Defaults.ResourceSlicePolicyName, "RESOURCESLICE_POLICY_NAME");

    public EnvOption ClaimPolicies { get; } = EnvOption.Flag("--claim-policy-names", "Comma-separated names of the claim/template ValidatingAdmissionPolicies (together they must cover resource.k8s.io v1, v1beta2, v1beta1).", string.Join(',', Defaults.ClaimPolicyNames), "CLAIM_POLICY_NAMES");

    public EnvOption PodHardeningPolicy { get; } = EnvOption.Flag("--pod-hardening-policy-name", "Name of the ValidatingAdmissionPolicy hardening pods in the driver's namespace; empty: not audited.", Defaults.PodHardeningPolicyName!, "POD_HARDENING_POLICY_NAME");

    public EnvOption ClaimDeleteProtectionPolicy { get; } = EnvOption.Flag("--claim-delete-protection-policy-name", "Name of the ValidatingAdmissionPolicy that lets only the control plane remove a ResourceClaim's delete-protection finalizer; empty: not audited.", Defaults.ClaimDeleteProtectionPolicyName!, "CLAIM_DELETE_PROTECTION_POLICY_NAME");

    public EnvOption WebhookConfiguration { get; } = EnvOption.Flag("--webhook-configuration-name", "Name of the ValidatingWebhookConfiguration; empty: not audited.", Defaults.WebhookConfigurationName!, "WEBHOOK_CONFIGURATION_NAME");

    public EnvOption AllowedRoles { get; } = EnvOption.Flag("--allowed-roles", "Comma-separated (Cluster)Role names the driver's service accounts may be bound to.", string.Join(',', Defaults.AllowedRoles), "ALLOWED_ROLES");

    public EnvOption Mode { get; } = EnvOption.Flag("--mode", "The chart's mode: plugin, or proxy (securedra proxy in front of the vendor's plugin: no slice writes, no SecureDra DeviceClass config, the proxy's hostPaths).", "plugin");

    public EnvOption ProxyHostPaths { get; } = EnvOption.Flag("--proxy-host-paths", "With --mode proxy: comma-separated vendor registry, vendor plugins and proxy state directories the proxy may mount.", string.Join(',', Defaults.ProxyHostPaths));

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var option in new[] { PluginServiceAccount, ControllerServiceAccount, ResourceSlicePolicy, ClaimPolicies, PodHardeningPolicy, ClaimDeleteProtectionPolicy, WebhookConfiguration, AllowedRoles, Mode, ProxyHostPaths })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>Applies the names to <paramref name="options"/>; throws <see cref="FormatException"/> naming the flag.</summary>
    public HardeningAuditOptions Apply(ParseResult parseResult, HardeningAuditOptions options)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        ArgumentNullException.ThrowIfNull(options);
        var podPolicy = parseResult.GetValue(PodHardeningPolicy)!;
        var webhook = parseResult.GetValue(WebhookConfiguration)!;
        var finalizerPolicy = parseResult.GetValue(ClaimDeleteProtectionPolicy)!;
        var proxyMode = FlagParsing.OneOf("--mode", parseResult.GetValue(Mode)!, "plugin", "proxy") == "proxy";
        var proxyPaths = parseResult.GetValue(ProxyHostPaths)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (proxyPaths.Length == 0 || proxyPaths.Any(p => !Path.IsPathFullyQualified(p) || p.Contains("..", StringComparison.Ordinal)))
        {
            throw new FormatException("--proxy-host-paths: give absolute directories without '..', comma-separated");
        }

        return options with
        {
            ProxyMode = proxyMode,
            ProxyHostPaths = proxyPaths,
            AllowedHostPaths = HardeningAuditOptions.HostPathsFor(options.DriverName, proxyMode, proxyPaths),
            PluginServiceAccount = FlagParsing.DnsSubdomain("--plugin-service-account", parseResult.GetValue(PluginServiceAccount)!),
            ControllerServiceAccount = FlagParsing.DnsSubdomain("--controller-service-account", parseResult.GetValue(ControllerServiceAccount)!),
            ResourceSlicePolicyName = FlagParsing.DnsSubdomain("--resourceslice-policy-name", parseResult.GetValue(ResourceSlicePolicy)!),
            ClaimPolicyNames = NameList("--claim-policy-names", parseResult.GetValue(ClaimPolicies)!),
            PodHardeningPolicyName = podPolicy.Length == 0 ? null : FlagParsing.DnsSubdomain("--pod-hardening-policy-name", podPolicy),
            ClaimDeleteProtectionPolicyName = finalizerPolicy.Length == 0 ? null : FlagParsing.DnsSubdomain("--claim-delete-protection-policy-name", finalizerPolicy),
            WebhookConfigurationName = webhook.Length == 0 ? null : FlagParsing.DnsSubdomain("--webhook-configuration-name", webhook),
            AllowedRoles = NameList("--allowed-roles", parseResult.GetValue(AllowedRoles)!),
        };
    }

    private static string[] NameList(string flag, string value)
    {
        var names = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0)
        {
            throw new FormatException($"{flag}: give at least one name");
        }

        return [.. names.Select(n => FlagParsing.DnsSubdomain(flag, n))];
    }
}
