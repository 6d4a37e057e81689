using System.Text.Json.Nodes;

namespace SecureDra.Controller.Audit.Checks;

/// <summary>
/// The node-scoped ResourceSlice policy and the claim/template policy must exist, fail closed, match the resources
/// they guard, and be bound with the Deny action: a policy without a Deny binding enforces nothing.
/// </summary>
public sealed class AdmissionPolicyCheck : IAuditCheck
{
    public string Id => AuditChecks.AdmissionPolicy;

    public IEnumerable<AuditFinding> Run(ClusterSnapshot snapshot, HardeningAuditOptions options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        var expected = new (string Name, string[] Resources, string[] Operations)[]
        {
            (options.ResourceSlicePolicyName, ["resourceslices"], ["CREATE", "UPDATE", "DELETE"]),
            (options.ClaimPolicyName, ["resourceclaims", "resourceclaimtemplates"], ["CREATE", "UPDATE"]),
        };

        foreach (var (name, resources, operations) in expected)
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
                foreach (var finding in CheckPolicy(policy, policyRef, resources, operations))
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

    private IEnumerable<AuditFinding> CheckPolicy(JsonObject policy, AuditObjectRef policyRef, string[] resources, string[] operations)
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
                JsonAccess.Strings(r, "apiGroups").Any(g => g is "resource.k8s.io" or "*") &&
                JsonAccess.Strings(r, "resources").Any(x => x == resource || x == "*")).ToList();
            if (covering.Count == 0)
            {
                yield return new AuditFinding(Id, AuditSeverity.Critical, policyRef, $"spec.matchConstraints.resourceRules do not match resource.k8s.io {resource}");
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
