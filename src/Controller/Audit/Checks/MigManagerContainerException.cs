using System.Text.Json.Nodes;

namespace SecureDra.Controller.Audit.Checks;

/// <summary>
/// The one bounded exception of the plugin DaemonSet's container rules: the chart's MIG manager container
/// (<c>kubeletPlugin.migManager.enabled</c>, docs/mig.md "Privilege"). NVIDIA's container runtime injects the
/// mig-config and mig-monitor capability nodes only into a container holding CAP_SYS_ADMIN, and Kubernetes refuses
/// allowPrivilegeEscalation false together with CAP_SYS_ADMIN. So exactly two findings are excused, and only for a
/// container that is named <c>mig-manager</c>, runs <c>securedra mig-manager</c> (first argument) from the same image
/// as the pod's other container, and adds exactly SYS_ADMIN: "allowPrivilegeEscalation must be set to false" and
/// "capabilities.add [SYS_ADMIN] must be empty". Privileged, any other capability, a writable root, a missing drop
/// ALL, seccomp, host namespaces and hostPaths stay findings, for it and for every other container.
/// </summary>
public static class MigManagerContainerException
{
    public const string ContainerName = "mig-manager";

    /// <summary>True when <paramref name="message"/> (a container problem of <paramref name="container"/>) is one the exception excuses.</summary>
    public static bool Excuses(JsonObject pod, JsonObject container, string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!IsMigManager(pod, container))
        {
            return false;
        }

        return message == "allowPrivilegeEscalation must be set to false" || message == "capabilities.add [SYS_ADMIN] must be empty";
    }

    /// <summary>The chart's MIG manager: by name, command, image (the pod's other container's) and a capability set of exactly SYS_ADMIN.</summary>
    public static bool IsMigManager(JsonObject pod, JsonObject container)
    {
        ArgumentNullException.ThrowIfNull(pod);
        ArgumentNullException.ThrowIfNull(container);
        if (JsonAccess.String(container, "name") != ContainerName || JsonAccess.Strings(container, "args").FirstOrDefault() != "mig-manager")
        {
            return false;
        }

        var image = JsonAccess.String(container, "image");
        var sibling = JsonAccess.Objects(pod, "containers").FirstOrDefault(c => JsonAccess.String(c, "name") != ContainerName);
        if (image is null || sibling is null || JsonAccess.String(sibling, "image") != image)
        {
            return false;
        }

        var added = JsonAccess.Strings(JsonAccess.Node(container, "securityContext") as JsonObject, "capabilities", "add").ToList();
        return added.Count == 1 && added[0] == "SYS_ADMIN";
    }
}
