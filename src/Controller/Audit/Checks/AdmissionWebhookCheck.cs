namespace SecureDra.Controller.Audit.Checks;

/// <summary>
/// The ValidatingWebhookConfiguration must exist, fail closed and cover claims and templates. Medium, not
/// critical: the claim policy and the plugin's own validation still hold without it.
/// </summary>
public sealed class AdmissionWebhookCheck : IAuditCheck
{
    public string Id => AuditChecks.AdmissionWebhook;

    public IEnumerable<AuditFinding> Run(ClusterSnapshot snapshot, HardeningAuditOptions options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        if (options.WebhookConfigurationName is not { } name)
        {
            yield break;
        }

        var config = snapshot.ValidatingWebhookConfigurations.FirstOrDefault(c => JsonAccess.String(c, "metadata", "name") == name);
        if (config is null)
        {
            yield return new AuditFinding(Id, AuditSeverity.Medium,
                new AuditObjectRef("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", null, name),
                $"ValidatingWebhookConfiguration {name} is missing: malformed opaque configs are caught only at prepare");
            yield break;
        }

        var target = AuditObjectRef.Of(config);
        var index = 0;
        foreach (var webhook in JsonAccess.Objects(config, "webhooks"))
        {
            var failurePolicy = JsonAccess.String(webhook, "failurePolicy") ?? "Fail";
            if (failurePolicy != "Fail")
            {
                yield return new AuditFinding(Id, AuditSeverity.Medium, target, $"webhooks[{index}].failurePolicy is {failurePolicy}; SecureDra's webhook is meant to fail closed (Fail)");
            }

            foreach (var resource in new[] { "resourceclaims", "resourceclaimtemplates" })
            {
                if (!JsonAccess.Objects(webhook, "rules").Any(r => JsonAccess.Strings(r, "resources").Any(x => x == resource || x == "*")))
                {
                    yield return new AuditFinding(Id, AuditSeverity.Medium, target, $"webhooks[{index}].rules do not match resource.k8s.io {resource}");
                }
            }

            // 1.32 serves only v1beta1, 1.33 adds v1beta2: a v1-only rule never sees claims written in the older versions.
            var versions = JsonAccess.Objects(webhook, "rules")
                .Where(r => JsonAccess.Strings(r, "apiGroups").Any(g => g is "resource.k8s.io" or "*"))
                .SelectMany(r => JsonAccess.Strings(r, "apiVersions"))
                .ToHashSet(StringComparer.Ordinal);
            var missing = HardeningAuditOptions.ClaimApiVersions.Where(v => !versions.Contains(v) && !versions.Contains("*")).ToList();
            if (missing.Count > 0)
            {
                yield return new AuditFinding(Id, AuditSeverity.Medium, target,
                    $"webhooks[{index}].rules do not match resource.k8s.io {string.Join(", ", missing)}: claims written in that version are not validated");
            }

            index++;
        }
    }
}
