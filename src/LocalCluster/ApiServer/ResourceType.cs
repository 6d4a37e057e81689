namespace SecureDra.LocalCluster.ApiServer;

/// <summary>One served resource: where it lives, how it is named and which versions carry it.</summary>
public sealed record ResourceType(
    string Group,
    IReadOnlyList<string> Versions,
    string Plural,
    string Singular,
    string Kind,
    bool Namespaced,
    IReadOnlyList<string> ShortNames,
    bool HasStatusSubresource = false)
{
    public static readonly IReadOnlyList<string> StandardVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

    /// <summary>Storage key: group and plural, version independent (objects are stored once).</summary>
    public string Key => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    public string ApiVersion(string version) => Group.Length == 0 ? version : $"{Group}/{version}";

    public bool IsResourceApi => Group == ResourceCatalog.ResourceGroup;
}
