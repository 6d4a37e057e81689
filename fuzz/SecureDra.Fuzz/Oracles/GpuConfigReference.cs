using System.Text.Json;
using SecureDra.Api.Config;
using SecureDra.Api.Validation;

namespace SecureDra.Fuzz.Oracles;

/// <summary>
/// An independent statement of what a valid GpuConfig is, written from the documented rules rather than
/// from the validator's code: a DOM parse (JsonDocument) instead of the validator's forward-only reader, and
/// literal strings instead of the shared constants. The oracle asks it only about inputs the validator
/// accepted: if this says "invalid", the validator let through something the documentation forbids.
/// </summary>
public static class GpuConfigReference
{
    private static readonly HashSet<string> Fields = new(StringComparer.Ordinal)
    {
        "apiVersion", "kind", "resetPolicy",
    };

    /// <summary>Null when the input is a valid config for <paramref name="origin"/>, else the rule it breaks; <paramref name="expected"/> is what it decodes to.</summary>
    public static string? WhyInvalid(ReadOnlySpan<byte> json, ConfigOrigin origin, GpuConfigLimits limits, out GpuConfig? expected)
    {
        ArgumentNullException.ThrowIfNull(limits);
        expected = null;
        if (json.Length > limits.MaxBytes)
        {
            return $"over-limit size: {json.Length} bytes > {limits.MaxBytes}";
        }

        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            return "invalid UTF-8";
        }

        JsonDocument document;
        try
        {
            // Depth: with only the three scalar fields a valid config is depth 1; the parse must not be what stops a deep one.
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 1024 });
        }
        catch (JsonException ex)
        {
            return $"not strict JSON ({ex.Message})";
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return "root is not an object";
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            string? apiVersion = null, kind = null, resetPolicy = null;
            foreach (var property in root.EnumerateObject())
            {
                string name;
                try
                {
                    name = property.Name;
                }
                catch (InvalidOperationException)
                {
                    return "a property name is not valid Unicode (lone surrogate escape)";
                }

                if (!Fields.Contains(name))
                {
                    return seen.Any(s => string.Equals(s, name, StringComparison.OrdinalIgnoreCase)) || Fields.Any(f => string.Equals(f, name, StringComparison.OrdinalIgnoreCase))
                        ? $"case-variant key \"{name}\""
                        : $"unknown field \"{name}\"";
                }

                if (!seen.Add(name))
                {
                    return $"duplicate key \"{name}\"";
                }

                var value = property.Value;
                if (value.ValueKind != JsonValueKind.String)
                {
                    return $"{name} is not a string";
                }

                string text;
                try
                {
                    text = value.GetString()!;
                }
                catch (InvalidOperationException)
                {
                    return $"{name} is not valid Unicode";
                }

                if (text.Length > limits.MaxStringLength)
                {
                    return $"over-limit string in {name}";
                }

                switch (name)
                {
                    case "apiVersion": apiVersion = text; break;
                    case "kind": kind = text; break;
                    default: resetPolicy = text; break;
                }
            }

            if (seen.Count > limits.MaxProperties)
            {
                return "over-limit property count";
            }

            if (apiVersion != "resource.securedra.io/v1alpha1")
            {
                return $"apiVersion is {apiVersion ?? "missing"}";
            }

            if (kind != "GpuConfig")
            {
                return $"kind is {kind ?? "missing"}";
            }

            // Only one reset policy exists: the scrub is not optional, for a claim or a class.
            if (resetPolicy is not null && resetPolicy != "ZeroVRAMOnRelease")
            {
                return $"disallowed resetPolicy \"{resetPolicy}\" for a {origin}";
            }

            expected = new GpuConfig(resetPolicy ?? "ZeroVRAMOnRelease");
            return null;
        }
    }
}
