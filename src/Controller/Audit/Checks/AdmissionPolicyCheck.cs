using System.Text.Json.Nodes;

namespace SecureDra.Controller.Audit.Checks;

/// <summary>
/// The node-scoped ResourceSlice policy, the claim/template policies (one per served resource.k8s.io version,
/// together covering v1, v1beta2 and v1beta1), the claim delete-protection policy and the pod-hardening policy
/// of the driver's namespace must exist,
/// fail closed, match the resources they guard, and be bound with the Deny action: a policy without a Deny binding
/// enforces nothing.
/// </summary>
public sealed class AdmissionPolicyCheck : IAuditCheck
{
    public string Id => AuditChecks.AdmissionPolicy;

    public IEnumerable<AuditFinding> Run(ClusterSnapshot snapshot, HardeningAuditOptions options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        var expected = new List<(string Name, string Group, string[] Resources, string[] Operations)>
        {
            (options.ResourceSlicePolicyName, "resource.k8s.io", ["resourceslices"], ["CREATE", "UPDATE", "DELETE"]),
        };
        expected.AddRange(options.ClaimPolicyNames.Select(name => (name, "resource.k8s.io", new[] { "resourceclaims", "resourceclaimtemplates" }, new[] { "CREATE", "UPDATE" })));
        if (options.PodHardeningPolicyName is { } podPolicy)
        {
            expected.Add((podPolicy, "", ["pods"], ["CREATE", "UPDATE"]));
        }

        if (options.ClaimDeleteProtectionPolicyName is { } finalizerPolicy)
        {
            expected.Add((finalizerPolicy, "resource.k8s.io", ["resourceclaims"], ["UPDATE"]));
        }

        foreach (var finding in ClaimVersionCoverage(snapshot, options))
        {
            yield return finding;
        }

        foreach (var (name, group, resources, operations) in expected)
        {
            var policy = snapshot.ValidatingAdmissionPolicies.FirstOrDefault(p => JsonAccess.String(p, "metadata", "name") == name);
            var policyRef = policy is null
                ? new AuditObjectRef("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", null, name)
                : AuditObjectRef.Of(policy);
            if (policy is null)
            {
                yield return new AuditFinding(Id, AuditSeverity.Critical, policyRef, $"ValidatingAdmissionPolicy {name} is missing");
            }
            else
            {
                foreach (var finding in CheckPolicy(policy, policyRef, group, resources, operations))
                {
                    yield return finding;
                }
            }

            var bindings = snapshot.ValidatingAdmissionPolicyBindings.Where(b => JsonAccess.String(b, "spec", "policyName") == name).ToList();
            if (bindings.Count == 0)
            {
                yield return new AuditFinding(Id, AuditSeverity.Critical, policyRef, $"no ValidatingAdmissionPolicyBinding has spec.policyName {name}: the policy enforces nothing");
            }
            else if (!bindings.Any(b => JsonAccess.Strings(b, "spec", "validationActions").Contains("Deny")))
            {
                foreach (var binding in bindings)
                {
                    yield return new AuditFinding(Id, AuditSeverity.Critical, AuditObjectRef.Of(binding),
                        $"binding of policy {name} has validationActions [{string.Join(", ", JsonAccess.Strings(binding, "spec", "validationActions"))}]; it must include Deny");
                }
            }
        }
    }

    /// <summary>Each served resource.k8s.io version must be matched by one of the claim policies, or claims in that version go unchecked.</summary>
    private IEnumerable<AuditFinding> ClaimVersionCoverage(ClusterSnapshot snapshot, HardeningAuditOptions options)
    {
        var present = snapshot.ValidatingAdmissionPolicies.Where(p => options.ClaimPolicyNames.Contains(JsonAccess.String(p, "metadata", "name") ?? "")).ToList();
        if (present.Count == 0)
        {
            yield break;
        }

        var covered = present
            .SelectMany(p => JsonAccess.Objects(p, "spec", "matchConstraints", "resourceRules"))
            .Where(r => JsonAccess.Strings(r, "apiGroups").Any(g => g is "resource.k8s.io" or "*") &&
                        JsonAccess.Strings(r, "resources").Any(x => x is "resourceclaims" or "*"))
            .SelectMany(r => JsonAccess.Strings(r, "apiVersions"))
            .ToHashSet(StringComparer.Ordinal);
        var missing = HardeningAuditOptions.ClaimApiVersions.Where(v => !covered.Contains(v) && !covered.Contains("*")).ToList();
        if (missing.Count > 0)
        {
            yield return new AuditFinding(Id, AuditSeverity.High, AuditObjectRef.Of(present[0]),
                $"the claim policies ({string.Join(", ", options.ClaimPolicyNames)}) do not match resource.k8s.io {string.Join(", ", missing)}: claims written in that version are not checked");
        }
    }

    private IEnumerable<AuditFinding> CheckPolicy(JsonObject policy, AuditObjectRef policyRef, string group, string[] resources, string[] operations)
    {
        var failurePolicy = JsonAccess.String(policy, "spec", "failurePolicy") ?? "Fail";
        if (failurePolicy != "Fail")
        {
            yield return new AuditFinding(Id, AuditSeverity.High, policyRef, $"spec.failurePolicy is {failurePolicy}; it must be Fail so an evaluation error denies");
        }

        var rules = JsonAccess.Objects(policy, "spec", "matchConstraints", "resourceRules").ToList();
        foreach (var resource in resources)
        {
            var covering = rules.Where(r =>
                JsonAccess.Strings(r, "apiGroups").Any(g => g == group || g == "*") &&
                JsonAccess.Strings(r, "resources").Any(x => x == resource || x == "*")).ToList();
            if (covering.Count == 0)
            {
                yield return new AuditFinding(Id, AuditSeverity.Critical, policyRef, $"spec.matchConstraints.resourceRules do not match {(group.Length == 0 ? "core" : group)} {resource}");
                continue;
            }

            var missing = operations.Where(op => !covering.Any(r => JsonAccess.Strings(r, "operations").Any(o => o == op || o == "*"))).ToList();
            if (missing.Count > 0)
            {
                yield return new AuditFinding(Id, AuditSeverity.High, policyRef, $"spec.matchConstraints.resourceRules for {resource} miss operations {string.Join(", ", missing)}");
            }
        }
    }
}
