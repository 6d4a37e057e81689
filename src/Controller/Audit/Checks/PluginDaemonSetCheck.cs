using System.Text.Json.Nodes;

namespace SecureDra.Controller.Audit.Checks;

/// <summary>
/// The kubelet plugin DaemonSet runs unprivileged: no privileged or escalating containers, no added capabilities,
/// read-only root filesystem, RuntimeDefault seccomp, no host namespaces, and hostPath only for the registrar dir,
/// its own plugin dir and the CDI dir (invariant 3).
/// </summary>
public sealed class PluginDaemonSetCheck : IAuditCheck
{
    public string Id => AuditChecks.PluginDaemonSet;

    public IEnumerable<AuditFinding> Run(ClusterSnapshot snapshot, HardeningAuditOptions options)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        var plugins = snapshot.DaemonSets.Where(d =>
            (JsonAccess.String(d, "metadata", "namespace") ?? "default") == options.Namespace &&
            (JsonAccess.String(d, "spec", "template", "spec", "serviceAccountName") == options.PluginServiceAccount ||
             JsonAccess.String(d, "metadata", "name") == options.PluginServiceAccount)).ToList();
        if (plugins.Count == 0)
        {
            yield return new AuditFinding(Id, AuditSeverity.Medium, new AuditObjectRef("apps/v1", "DaemonSet", options.Namespace, options.PluginServiceAccount),
                $"no DaemonSet in namespace {options.Namespace} runs as service account {options.PluginServiceAccount}; the kubelet plugin could not be audited");
            yield break;
        }

        foreach (var daemonSet in plugins)
        {
            foreach (var finding in CheckPod(daemonSet, options))
            {
                yield return finding;
            }
        }
    }

    private IEnumerable<AuditFinding> CheckPod(JsonObject daemonSet, HardeningAuditOptions options)
    {
        var target = AuditObjectRef.Of(daemonSet);
        var pod = JsonAccess.Node(daemonSet, "spec", "template", "spec") as JsonObject ?? [];
        foreach (var hostField in new[] { "hostPID", "hostNetwork", "hostIPC" })
        {
            if (JsonAccess.Bool(pod, hostField) == true)
            {
                yield return new AuditFinding(Id, AuditSeverity.Critical, target, $"spec.template.spec.{hostField} is true");
            }
        }

        var index = 0;
        foreach (var volume in JsonAccess.Objects(pod, "volumes"))
        {
            if (JsonAccess.String(volume, "hostPath", "path") is { } readOnlyPath && options.ReadOnlyHostPaths.Contains(readOnlyPath, StringComparer.Ordinal))
            {
                // Node configuration the plugin only reads: every mount of it must be readOnly.
                if (WritableMounts(pod, JsonAccess.String(volume, "name") ?? "").FirstOrDefault() is { } writer)
                {
                    yield return new AuditFinding(Id, AuditSeverity.High, target,
                        $"spec.template.spec.volumes[{index}].hostPath.path {readOnlyPath} is mounted writable by container {writer}; node configuration may only be mounted readOnly");
                }
            }
            else if (JsonAccess.String(volume, "hostPath", "path") is { } path && !IsAllowedHostPath(path, options.AllowedHostPaths))
            {
                yield return new AuditFinding(Id, AuditSeverity.High, target,
                    $"spec.template.spec.volumes[{index}].hostPath.path {path} is outside the allowed directories ({string.Join(", ", options.AllowedHostPaths)})");
            }

            index++;
        }

        var podSeccomp = JsonAccess.String(pod, "securityContext", "seccompProfile", "type");
        foreach (var field in new[] { "initContainers", "containers" })
        {
            var i = 0;
            foreach (var container in JsonAccess.Objects(pod, field))
            {
                var at = $"spec.template.spec.{field}[{i}] ({JsonAccess.String(container, "name")})";
                // The chart's MIG manager container is a known, bounded exception (its own file says exactly what is excused).
                foreach (var problem in ContainerProblems(container, podSeccomp).Where(p => field != "containers" || !MigManagerContainerException.Excuses(pod, container, p.Message)))
                {
                    yield return new AuditFinding(Id, problem.Severity, target, $"{at}.securityContext: {problem.Message}");
                }

                i++;
            }
        }
    }

    private static IEnumerable<string> WritableMounts(JsonObject pod, string volumeName) =>
        new[] { "initContainers", "containers" }
            .SelectMany(field => JsonAccess.Objects(pod, field))
            .Where(c => JsonAccess.Objects(c, "volumeMounts").Any(m => JsonAccess.String(m, "name") == volumeName && JsonAccess.Bool(m, "readOnly") != true))
            .Select(c => JsonAccess.String(c, "name") ?? "?");

    private static IEnumerable<(AuditSeverity Severity, string Message)> ContainerProblems(JsonObject container, string? podSeccomp)
    {
        var sc = JsonAccess.Node(container, "securityContext") as JsonObject;
        if (JsonAccess.Bool(sc, "privileged") == true)
        {
            yield return (AuditSeverity.Critical, "privileged is true");
        }

        if (JsonAccess.Bool(sc, "allowPrivilegeEscalation") != false)
        {
            yield return (AuditSeverity.High, "allowPrivilegeEscalation must be set to false");
        }

        var added = JsonAccess.Strings(sc, "capabilities", "add").ToList();
        if (added.Count > 0)
        {
            yield return (AuditSeverity.High, $"capabilities.add [{string.Join(", ", added)}] must be empty");
        }

        if (!JsonAccess.Strings(sc, "capabilities", "drop").Contains("ALL"))
        {
            yield return (AuditSeverity.Medium, "capabilities.drop must include ALL");
        }

        if (JsonAccess.Bool(sc, "readOnlyRootFilesystem") != true)
        {
            yield return (AuditSeverity.Medium, "readOnlyRootFilesystem must be true");
        }

        var seccomp = JsonAccess.String(sc, "seccompProfile", "type") ?? podSeccomp;
        if (seccomp is not ("RuntimeDefault" or "Localhost"))
        {
            yield return (AuditSeverity.Medium, $"seccompProfile.type is {seccomp ?? "unset"}; use RuntimeDefault");
        }
    }

    internal static bool IsAllowedHostPath(string path, IReadOnlyList<string> allowed)
    {
        if (!path.StartsWith('/') || path.Split('/').Any(segment => segment is ".." or "."))
        {
            return false;
        }

        var normalized = path.TrimEnd('/');
        return allowed.Any(a =>
        {
            var root = a.TrimEnd('/');
            return normalized == root || normalized.StartsWith(root + "/", StringComparison.Ordinal);
        });
    }
}
