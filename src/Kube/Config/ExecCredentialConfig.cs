using System.Text.Json.Nodes;

namespace SecureDra.Kube.Config;

/// <summary>
/// A kubeconfig <c>users[].user.exec</c> credential plugin (client.authentication.k8s.io v1 or v1beta1), as
/// EKS (<c>aws eks get-token</c>), GKE (<c>gke-gcloud-auth-plugin</c>) and AKS (<c>kubelogin</c>) write it.
/// </summary>
/// <param name="Command">Resolved as client-go does: a relative path with a slash is relative to the kubeconfig's directory; a bare name is looked up in PATH.</param>
/// <param name="ClusterInfo">The KUBERNETES_EXEC_INFO <c>spec.cluster</c> object when <c>provideClusterInfo</c> is true.</param>
public sealed record ExecCredentialConfig(
    string ApiVersion,
    string Command,
    IReadOnlyList<string> Args,
    IReadOnlyList<KeyValuePair<string, string>> Env,
    ExecInteractiveMode InteractiveMode,
    string? InstallHint,
    JsonObject? ClusterInfo,
    string Where)
{
    public const string V1 = "client.authentication.k8s.io/v1";
    public const string V1Beta1 = "client.authentication.k8s.io/v1beta1";

    private static readonly string[] Known = ["apiVersion", "command", "args", "env", "interactiveMode", "provideClusterInfo", "installHint"];

    /// <summary>Reads <paramref name="exec"/>; <paramref name="cluster"/> is the kubeconfig cluster for <c>provideClusterInfo</c>.</summary>
    internal static ExecCredentialConfig Parse(JsonObject exec, string where, string baseDir, Func<JsonObject> cluster)
    {
        KubeconfigFields.RejectUnknown(exec, where, Known);
        var apiVersion = KubeconfigFields.String(exec, "apiVersion", where);
        if (string.IsNullOrEmpty(apiVersion))
        {
            throw new KubeConfigException($"{where}.apiVersion is not set (use {V1} or {V1Beta1})");
        }

        if (apiVersion is not (V1 or V1Beta1))
        {
            throw new KubeConfigException($"{where}.apiVersion {KubeconfigFields.Quote(apiVersion)} is not supported (use {V1} or {V1Beta1})");
        }

        var command = KubeconfigFields.String(exec, "command", where);
        if (string.IsNullOrWhiteSpace(command))
        {
            throw new KubeConfigException($"{where}.command is not set");
        }

        if (command.Contains('/', StringComparison.Ordinal) && !Path.IsPathRooted(command))
        {
            command = Path.GetFullPath(Path.Combine(baseDir, command));
        }

        var args = new List<string>();
        if (KubeconfigFields.Array(exec, "args", where) is { } argList)
        {
            for (var i = 0; i < argList.Count; i++)
            {
                args.Add(argList[i] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new KubeConfigException($"{where}.args[{i}]: must be a string"));
            }
        }

        var env = new List<KeyValuePair<string, string>>();
        if (KubeconfigFields.Array(exec, "env", where) is { } envList)
        {
            for (var i = 0; i < envList.Count; i++)
            {
                var at = $"{where}.env[{i}]";
                if (envList[i] is not JsonObject entry)
                {
                    throw new KubeConfigException($"{at}: must be a mapping with name and value");
                }

                KubeconfigFields.RejectUnknown(entry, at, ["name", "value"]);
                var name = KubeconfigFields.String(entry, "name", at);
                if (string.IsNullOrEmpty(name) || name.Contains('=', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
                {
                    throw new KubeConfigException($"{at}.name must be a non-empty variable name without '=' or NUL");
                }

                var value = KubeconfigFields.String(entry, "value", at) ?? throw new KubeConfigException($"{at}.value is not set");
                env.Add(new(name, value));
            }
        }

        var modeText = KubeconfigFields.String(exec, "interactiveMode", where);
        var mode = modeText switch
        {
            null or "" when apiVersion == V1 => throw new KubeConfigException($"{where}.interactiveMode is required for {V1} (Never, IfAvailable or Always)"),
            null or "" => ExecInteractiveMode.IfAvailable,
            "Never" => ExecInteractiveMode.Never,
            "IfAvailable" => ExecInteractiveMode.IfAvailable,
            "Always" => throw new KubeConfigException(
                $"{where}.interactiveMode Always needs a terminal for the plugin, and securedra never gives it one; use a plugin mode that runs without input (Never or IfAvailable)"),
            _ => throw new KubeConfigException($"{where}.interactiveMode {KubeconfigFields.Quote(modeText)} is not Never, IfAvailable or Always"),
        };

        var provide = KubeconfigFields.Bool(exec, "provideClusterInfo", where);
        return new ExecCredentialConfig(apiVersion, command, args, env, mode, KubeconfigFields.String(exec, "installHint", where), provide ? cluster() : null, where);
    }
}

/// <summary>Whether the plugin may read from the user; securedra has no terminal, so the plugin is always told it may not.</summary>
public enum ExecInteractiveMode
{
    Never,
    IfAvailable,
}
