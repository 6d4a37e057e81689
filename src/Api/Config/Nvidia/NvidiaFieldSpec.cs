namespace SecureDra.Api.Config.Nvidia;

/// <summary>One field of the NVIDIA schema table: its JSON name, type, bounds and, for objects, their fields.</summary>
public sealed record NvidiaFieldSpec(string Name, NvidiaValueType Type)
{
    public bool Required { get; init; }

    /// <summary>The accepted values of an <see cref="NvidiaValueType.Enum"/>.</summary>
    public IReadOnlyList<string> Values { get; init; } = [];

    public NvidiaObjectSpec? Object { get; init; }

    public long Minimum { get; init; }

    public long Maximum { get; init; }

    /// <summary>For <see cref="NvidiaValueType.String"/>: the accepted shape, and its description for the error.</summary>
    public NvidiaStringShape? Pattern { get; init; }
}

/// <summary>An object of the schema: its fields in the order the documentation lists them.</summary>
public sealed record NvidiaObjectSpec(IReadOnlyList<NvidiaFieldSpec> Fields)
{
    /// <summary>Why a field that is not in <see cref="Fields"/> is not there, for names a user would plausibly try.</summary>
    public IReadOnlyDictionary<string, string> UnknownFieldNotes { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public string AllowedFields => string.Join(", ", Fields.Select(f => f.Name));

    public NvidiaFieldSpec? Find(string name)
    {
        foreach (var field in Fields)
        {
            if (string.Equals(field.Name, name, StringComparison.Ordinal))
            {
                return field;
            }
        }

        return null;
    }
}

/// <summary>A string shape: a predicate over the value and what it means, e.g. "a UUID (the ComputeDomain's uid)".</summary>
public sealed record NvidiaStringShape(Func<string, bool> Accepts, string Description, int MaxLength);
