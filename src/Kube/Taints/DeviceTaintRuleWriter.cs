using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecureDra.Kube.Client;
using SecureDra.Kube.Resources;

namespace SecureDra.Kube.Taints;

/// <summary>
/// Writes DeviceTaintRules through <see cref="IKubeApiClient"/>. Discovery asks resource.k8s.io/v1, v1beta2 and
/// v1alpha3 (in that order) whether they list devicetaintrules; the answer is cached until a write finds the
/// resource gone. Writes are idempotent: an existing rule with the same selector and taint is left alone, one with
/// another taint is rewritten with its resourceVersion (a concurrent writer's 409 is retried once), and a rule
/// this writer did not label as its own is never touched.
/// </summary>
public sealed partial class DeviceTaintRuleWriter(IKubeApiClient client, ILogger<DeviceTaintRuleWriter>? logger = null) : IDeviceTaintRuleWriter
{
    public const string Effect = "NoSchedule";
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string ManagedByValue = "securedra";
    public const string ReasonAnnotation = "securedra.io/withdrawal-reason";

    /// <summary>The reason is operator-facing text in an annotation; longer text is cut, control characters replaced.</summary>
    public const int MaxReasonLength = 1024;

    /// <summary>Newest first; v1beta1 never carried DeviceTaintRule.</summary>
    public static IReadOnlyList<string> CandidateVersions { get; } = ["v1", "v1beta2", "v1alpha3"];

    private readonly IKubeApiClient _client = client ?? throw new ArgumentNullException(nameof(client));
    private readonly ILogger _logger = logger ?? NullLogger<DeviceTaintRuleWriter>.Instance;
    private readonly SemaphoreSlim _discoveryLock = new(1, 1);
    private DeviceTaintRuleSupport? _support;

    public async Task<DeviceTaintRuleSupport> DiscoverAsync(CancellationToken cancellationToken)
    {
        if (_support is { } cached)
        {
            return cached;
        }

        await _discoveryLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_support is { } raced)
            {
                return raced;
            }

            foreach (var version in CandidateVersions)
            {
                var list = await _client.GetPathAsync($"{ResourceApiDiscovery.Path}/{version}", cancellationToken).ConfigureAwait(false);
                if (list is JsonObject { } document && document["resources"] is JsonArray resources
                    && resources.OfType<JsonObject>().Any(r => r["name"] is JsonValue name && name.TryGetValue<string>(out var plural) && plural == "devicetaintrules"))
                {
                    _support = new DeviceTaintRuleSupport(version, $"resource.k8s.io/{version} serves devicetaintrules");
                    return _support;
                }
            }

            _support = new DeviceTaintRuleSupport(null,
                "resource.k8s.io serves no devicetaintrules (Kubernetes 1.33-1.35: v1alpha3 with its feature gate and runtime-config; 1.36: v1beta2 with the DRADeviceTaintRules gate, off by default)");
            LogNotServed(_logger, _support.Message);
            return _support;
        }
        finally
        {
            _discoveryLock.Release();
        }
    }

    public async Task<DeviceTaintRuleResult> ApplyAsync(DeviceTaintRuleTarget target, string taintKey, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!IsQualifiedName(taintKey))
        {
            throw new ArgumentException($"taint key '{taintKey}' must be a qualified name (optional DNS prefix and '/', then 1 to 63 alphanumerics, '-', '_' or '.')", nameof(taintKey));
        }

        var name = DeviceTaintRuleNames.For(target);
        var support = await DiscoverAsync(cancellationToken).ConfigureAwait(false);
        if (support.Version is not { } version)
        {
            return new DeviceTaintRuleResult(DeviceTaintRuleOutcome.NotServed, name, null, support.Message);
        }

        var resource = KubeResource.DeviceTaintRules(version);
        var desired = Build(resource, name, target, taintKey, Bound(reason));
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var existing = await _client.GetAsync(resource, null, name, cancellationToken).ConfigureAwait(false);
                if (existing is null)
                {
                    try
                    {
                        await _client.CreateAsync(resource, null, desired, cancellationToken).ConfigureAwait(false);
                        LogApplied(_logger, name, target.ToString(), taintKey, version);
                        return new DeviceTaintRuleResult(DeviceTaintRuleOutcome.Applied, name, resource.ApiVersion, $"DeviceTaintRule {name} withdraws {target} ({taintKey}, {Effect})");
                    }
                    catch (KubeApiException ex) when (ex.IsConflict && attempt == 0)
                    {
                        continue; // Created concurrently: compare with what is there now.
                    }
                }

                if (!IsOurs(existing))
                {
                    throw new InvalidOperationException($"DeviceTaintRule {name} exists without the label {ManagedByLabel}={ManagedByValue}: it was not written by SecureDra and is left alone");
                }

                if (JsonNode.DeepEquals(Comparable(existing["spec"]), Comparable(desired["spec"])))
                {
                    return new DeviceTaintRuleResult(DeviceTaintRuleOutcome.Unchanged, name, resource.ApiVersion, $"DeviceTaintRule {name} already withdraws {target}");
                }

                desired["metadata"]!["resourceVersion"] = existing["metadata"]?["resourceVersion"]?.DeepClone();
                try
                {
                    await _client.UpdateAsync(resource, null, name, desired, cancellationToken).ConfigureAwait(false);
                    LogApplied(_logger, name, target.ToString(), taintKey, version);
                    return new DeviceTaintRuleResult(DeviceTaintRuleOutcome.Updated, name, resource.ApiVersion, $"DeviceTaintRule {name} rewritten to withdraw {target} ({taintKey}, {Effect})");
                }
                catch (KubeApiException ex) when (ex.IsConflict && attempt == 0)
                {
                    desired["metadata"]!.AsObject().Remove("resourceVersion");
                }
            }
        }
        catch (KubeApiException ex) when (ex.IsNotFound || ex.StatusCode == HttpStatusCode.Forbidden)
        {
            return Refused(ex, name, target);
        }
    }

    public async Task<DeviceTaintRuleResult> RemoveAsync(DeviceTaintRuleTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var name = DeviceTaintRuleNames.For(target);
        var support = await DiscoverAsync(cancellationToken).ConfigureAwait(false);
        if (support.Version is not { } version)
        {
            return new DeviceTaintRuleResult(DeviceTaintRuleOutcome.NotServed, name, null, support.Message);
        }

        var resource = KubeResource.DeviceTaintRules(version);
        try
        {
            var existing = await _client.GetAsync(resource, null, name, cancellationToken).ConfigureAwait(false);
            if (existing is not null && !IsOurs(existing))
            {
                throw new InvalidOperationException($"DeviceTaintRule {name} exists without the label {ManagedByLabel}={ManagedByValue}: it was not written by SecureDra and is left alone");
            }

            if (existing is not null)
            {
                await _client.DeleteAsync(resource, null, name, cancellationToken).ConfigureAwait(false);
                LogRemoved(_logger, name, target.ToString());
            }

            return new DeviceTaintRuleResult(DeviceTaintRuleOutcome.Removed, name, resource.ApiVersion, $"no DeviceTaintRule withdraws {target}");
        }
        catch (KubeApiException ex) when (ex.IsNotFound || ex.StatusCode == HttpStatusCode.Forbidden)
        {
            return Refused(ex, name, target);
        }
    }

    private DeviceTaintRuleResult Refused(KubeApiException ex, string name, DeviceTaintRuleTarget target)
    {
        if (ex.IsNotFound)
        {
            // The collection itself is gone (gate or runtime-config turned off since discovery): ask again next time.
            _support = null;
            LogNotServed(_logger, ex.Message);
            return new DeviceTaintRuleResult(DeviceTaintRuleOutcome.NotServed, name, null, $"devicetaintrules is no longer served: {ex.Message}");
        }

        LogForbidden(_logger, name, target.ToString(), ex.Message);
        return new DeviceTaintRuleResult(DeviceTaintRuleOutcome.Forbidden, name, null, $"the API server refused DeviceTaintRule {name} for {target}: {ex.Message}");
    }

    private static JsonObject Build(KubeResource resource, string name, DeviceTaintRuleTarget target, string taintKey, string reason) => new()
    {
        ["apiVersion"] = resource.ApiVersion,
        ["kind"] = "DeviceTaintRule",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["labels"] = new JsonObject { [ManagedByLabel] = ManagedByValue },
            ["annotations"] = new JsonObject { [ReasonAnnotation] = reason },
        },
        ["spec"] = new JsonObject
        {
            ["deviceSelector"] = new JsonObject { ["driver"] = target.Driver, ["pool"] = target.Pool, ["device"] = target.Device },
            ["taint"] = new JsonObject { ["key"] = taintKey, ["effect"] = Effect },
        },
    };

    // The server adds taint.timeAdded; equality is over what this writer sets.
    private static JsonNode? Comparable(JsonNode? spec)
    {
        var copy = spec?.DeepClone();
        (copy?["taint"] as JsonObject)?.Remove("timeAdded");
        return copy;
    }

    private static bool IsOurs(JsonObject existing) =>
        existing["metadata"]?["labels"]?[ManagedByLabel] is JsonValue value && value.TryGetValue<string>(out var text) && text == ManagedByValue;

    private static string Bound(string? reason)
    {
        var text = string.IsNullOrWhiteSpace(reason) ? "withdrawn by SecureDra" : reason;
        var chars = text.Length > MaxReasonLength ? text.AsSpan(0, MaxReasonLength).ToArray() : text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsControl(chars[i]) || char.IsSurrogate(chars[i]))
            {
                chars[i] = '?';
            }
        }

        return new string(chars);
    }

    public static bool IsQualifiedName(string? key)
    {
        if (key is not { Length: > 0 })
        {
            return false;
        }

        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var prefix = slash < 0 ? null : key[..slash];
        var name = slash < 0 ? key : key[(slash + 1)..];
        return name is { Length: > 0 and <= 63 } && NamePart().IsMatch(name)
            && (prefix is null || (prefix.Length is > 0 and <= 253 && DnsSubdomain().IsMatch(prefix)));
    }

    [GeneratedRegex("^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePart();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", RegexOptions.CultureInvariant)]
    private static partial Regex DnsSubdomain();
}
