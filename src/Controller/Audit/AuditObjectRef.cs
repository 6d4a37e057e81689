using System.Text.Json.Nodes;

namespace SecureDra.Controller.Audit;

/// <summary>The object a finding is about; Namespace null for cluster-scoped objects.</summary>
public sealed record AuditObjectRef(string ApiVersion, string Kind, string? Namespace, string Name, string? Uid = null)
{
    public static AuditObjectRef Of(JsonObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        return new(
            JsonAccess.String(obj, "apiVersion") ?? "",
            JsonAccess.String(obj, "kind") ?? "",
            JsonAccess.String(obj, "metadata", "namespace"),
            JsonAccess.String(obj, "metadata", "name") ?? "",
            JsonAccess.String(obj, "metadata", "uid"));
    }

    public override string ToString() => Namespace is null ? $"{Kind}/{Name}" : $"{Kind}/{Namespace}/{Name}";
}
