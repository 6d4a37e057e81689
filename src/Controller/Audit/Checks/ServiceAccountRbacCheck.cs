using System.Text.Json.Nodes;

namespace SecureDra.Controller.Audit.Checks;

/// <summary>
/// The driver's service accounts may be bound only to the driver's own roles, and those roles may hold no
/// wildcards, no secrets, no node writes, no claim writes and no privilege-escalation verbs (invariant 3).
/// </summary>
public sealed class ServiceAccountRbacCheck : IAuditCheck
{
    private static readonly HashSet<string> WriteVerbs = new(StringComparer.Ordinal) { "create", "update", "patch", "delete", "deletecollection", "*" };
    private static readonly HashSet<string> EscalationVerbs = new(StringComparer.Ordinal) { "escalate", "bind", "impersonate" };
    private static readonly HashSet<string> PowerfulRoles = new(StringComparer.Ordinal) { "cluster-admin", "admin", "edit", "system:masters" };

    public string Id => AuditChecks.ServiceAccountRbac;

    public IEnumerable<AuditFinding> Run(ClusterSnapshot snapshot, HardeningAuditOptions options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        var allowed = new HashSet<string>(options.AllowedRoles, StringComparer.Ordinal);
        var reportedRoles = new HashSet<string>(StringComparer.Ordinal);
        var bindings = snapshot.ClusterRoleBindings.Select(b => (Binding: b, Namespace: (string?)null))
            .Concat(snapshot.RoleBindings.Select(b => (Binding: b, Namespace: (string?)(JsonAccess.String(b, "metadata", "namespace") ?? "default"))));

        foreach (var (binding, bindingNamespace) in bindings)
        {
            var subjects = JsonAccess.Objects(binding, "subjects").Select(s => Describe(s, bindingNamespace, options)).OfType<string>().ToList();
            if (subjects.Count == 0)
            {
                continue;
            }

            var roleKind = JsonAccess.String(binding, "roleRef", "kind") ?? "";
            var roleName = JsonAccess.String(binding, "roleRef", "name") ?? "";
            var target = AuditObjectRef.Of(binding);
            if (!allowed.Contains(roleName))
            {
                var severity = PowerfulRoles.Contains(roleName) ? AuditSeverity.Critical : AuditSeverity.High;
                yield return new AuditFinding(Id, severity, target,
                    $"binds {string.Join(", ", subjects)} to {roleKind} {roleName}, which is not one of the driver's own roles ({string.Join(", ", options.AllowedRoles)})");
                continue;
            }

            var role = roleKind == "ClusterRole"
                ? snapshot.ClusterRoles.FirstOrDefault(r => JsonAccess.String(r, "metadata", "name") == roleName)
                : snapshot.Roles.FirstOrDefault(r => JsonAccess.String(r, "metadata", "name") == roleName && (JsonAccess.String(r, "metadata", "namespace") ?? "default") == bindingNamespace);
            if (role is null || !reportedRoles.Add($"{roleKind}/{bindingNamespace}/{roleName}"))
            {
                continue;
            }

            foreach (var finding in CheckRules(role))
            {
                yield return finding;
            }

            if (options.ProxyMode && subjects.Any(s => s.EndsWith("/" + options.PluginServiceAccount, StringComparison.Ordinal) || s.EndsWith(":" + options.PluginServiceAccount, StringComparison.Ordinal)))
            {
                foreach (var finding in CheckProxyRules(role))
                {
                    yield return finding;
                }
            }
        }
    }

    /// <summary>The subject as text when it is (or includes) one of the driver's service accounts, else null.</summary>
    private static string? Describe(JsonObject subject, string? bindingNamespace, HardeningAuditOptions options)
    {
        var kind = JsonAccess.String(subject, "kind");
        var name = JsonAccess.String(subject, "name") ?? "";
        switch (kind)
        {
            case "ServiceAccount":
                var ns = JsonAccess.String(subject, "namespace") ?? bindingNamespace;
                return ns == options.Namespace && options.ServiceAccounts.Contains(name) ? $"ServiceAccount {ns}/{name}" : null;
            case "User":
                return options.ServiceAccounts.Any(sa => name == $"system:serviceaccount:{options.Namespace}:{sa}") ? $"User {name}" : null;
            case "Group":
                // Only the namespace's own group: cluster-wide groups carry the API server's default discovery bindings.
                return name == $"system:serviceaccounts:{options.Namespace}" ? $"Group {name}" : null;
            default:
                return null;
        }
    }

    /// <summary>Proxy mode: the vendor owns the slices of the driver; a write would fight its slice controller or rewrite its devices.</summary>
    private IEnumerable<AuditFinding> CheckProxyRules(JsonObject role)
    {
        var index = 0;
        foreach (var rule in JsonAccess.Objects(role, "rules"))
        {
            var writes = JsonAccess.Strings(rule, "verbs").Where(WriteVerbs.Contains).ToList();
            if (writes.Count > 0 && JsonAccess.Strings(rule, "resources").Any(r => r is "resourceslices" or "*"))
            {
                yield return new AuditFinding(Id, AuditSeverity.High, AuditObjectRef.Of(role),
                    $"rules[{index}] grants the proxy ResourceSlice writes ({string.Join(", ", writes)}); in proxy mode the vendor owns the slices and the proxy may only read them");
            }

            index++;
        }
    }

    private IEnumerable<AuditFinding> CheckRules(JsonObject role)
    {
        var target = AuditObjectRef.Of(role);
        if (JsonAccess.Node(role, "aggregationRule") is not null)
        {
            yield return new AuditFinding(Id, AuditSeverity.High, target, "has an aggregationRule: its permissions grow with every matching ClusterRole");
        }

        var index = 0;
        foreach (var rule in JsonAccess.Objects(role, "rules"))
        {
            var verbs = JsonAccess.Strings(rule, "verbs").ToList();
            var resources = JsonAccess.Strings(rule, "resources").ToList();
            var groups = JsonAccess.Strings(rule, "apiGroups").ToList();
            var at = $"rules[{index}]";
            if (verbs.Contains("*") || resources.Contains("*") || groups.Contains("*") || JsonAccess.Strings(rule, "nonResourceURLs").Contains("*"))
            {
                yield return new AuditFinding(Id, AuditSeverity.High, target, $"{at} uses a wildcard (verbs [{string.Join(", ", verbs)}], resources [{string.Join(", ", resources)}], apiGroups [{string.Join(", ", groups)}])");
            }

            if (resources.Contains("secrets"))
            {
                yield return new AuditFinding(Id, AuditSeverity.High, target, $"{at} grants access to secrets");
            }

            var writes = verbs.Where(WriteVerbs.Contains).ToList();
            if (writes.Count > 0 && resources.Contains("nodes"))
            {
                yield return new AuditFinding(Id, AuditSeverity.High, target, $"{at} grants node writes ({string.Join(", ", writes)})");
            }

            if (writes.Count > 0 && resources.Contains("resourceclaims"))
            {
                yield return new AuditFinding(Id, AuditSeverity.High, target, $"{at} grants claim writes ({string.Join(", ", writes)}); drivers write only resourceclaims/status");
            }

            var escalation = verbs.Where(EscalationVerbs.Contains).ToList();
            if (escalation.Count > 0)
            {
                yield return new AuditFinding(Id, AuditSeverity.Critical, target, $"{at} grants privilege-escalation verbs ({string.Join(", ", escalation)})");
            }

            index++;
        }
    }
}
