using System.Text;

namespace SecureDra.Kube.Client;

/// <summary>Builds REST paths and query strings the way client-go does (every segment and value escaped).</summary>
public static class KubeApiPaths
{
    /// <summary>The collection path for a write (POST): a namespaced resource needs its namespace.</summary>
    public static string Collection(KubeResource resource, string? @namespace) => Collection(resource, @namespace, allNamespaces: false);

    /// <summary>
    /// The collection path for LIST and WATCH: a namespaced resource with no namespace is read across all
    /// namespaces (<c>/apis/g/v/plural</c>), as client-go does for <c>Namespace("")</c>.
    /// </summary>
    public static string ReadCollection(KubeResource resource, string? @namespace) => Collection(resource, @namespace, allNamespaces: true);

    private static string Collection(KubeResource resource, string? @namespace, bool allNamespaces)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var sb = new StringBuilder();
        sb.Append(resource.Group.Length == 0 ? "/api/" : $"/apis/{Escape(resource.Group)}/");
        sb.Append(Escape(resource.Version));
        if (resource.Namespaced && !(allNamespaces && string.IsNullOrEmpty(@namespace)))
        {
            if (string.IsNullOrEmpty(@namespace))
            {
                throw new ArgumentException($"{resource.Plural} is namespaced: a namespace is required", nameof(@namespace));
            }

            sb.Append("/namespaces/").Append(Escape(@namespace));
        }

        sb.Append('/').Append(Escape(resource.Plural));
        return sb.ToString();
    }

    public static string Item(KubeResource resource, string? @namespace, string name, string? subresource = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var path = $"{Collection(resource, @namespace)}/{Escape(name)}";
        return string.IsNullOrEmpty(subresource) ? path : $"{path}/{Escape(subresource)}";
    }

    public static string Query(KubeListOptions? options, bool watch)
    {
        var parts = new List<string>();
        if (watch)
        {
            parts.Add("watch=true");
            parts.Add("allowWatchBookmarks=true");
        }

        if (options is not null)
        {
            if (!string.IsNullOrEmpty(options.LabelSelector))
            {
                parts.Add("labelSelector=" + Uri.EscapeDataString(options.LabelSelector));
            }

            if (!string.IsNullOrEmpty(options.FieldSelector))
            {
                parts.Add("fieldSelector=" + Uri.EscapeDataString(options.FieldSelector));
            }

            if (!string.IsNullOrEmpty(options.ResourceVersion))
            {
                parts.Add("resourceVersion=" + Uri.EscapeDataString(options.ResourceVersion));
            }

            if (options.TimeoutSeconds is { } timeout)
            {
                parts.Add("timeoutSeconds=" + timeout.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    private static string Escape(string segment) => Uri.EscapeDataString(segment);
}
