namespace SecureDra.Kube.Taints;

/// <summary>What a DeviceTaintRule write did.</summary>
public enum DeviceTaintRuleOutcome
{
    /// <summary>The rule was created.</summary>
    Applied,

    /// <summary>The rule already existed with the same selector and taint.</summary>
    Unchanged,

    /// <summary>The rule existed with another taint and was rewritten.</summary>
    Updated,

    /// <summary>The rule is gone (or never existed).</summary>
    Removed,

    /// <summary>resource.k8s.io serves no DeviceTaintRule here: the caller's own refusal at Prepare is the only barrier.</summary>
    NotServed,

    /// <summary>The API server refused the write (RBAC, or the admission policy that keeps a node to its own devices).</summary>
    Forbidden,
}

/// <summary>The outcome, the rule's name, the API version spoken (null when none is served) and a one-line explanation.</summary>
public sealed record DeviceTaintRuleResult(DeviceTaintRuleOutcome Outcome, string Name, string? ApiVersion, string Message)
{
    /// <summary>True when the cluster now withdraws the device (or no longer does, for a removal) as asked.</summary>
    public bool Succeeded => Outcome is DeviceTaintRuleOutcome.Applied or DeviceTaintRuleOutcome.Unchanged or DeviceTaintRuleOutcome.Updated or DeviceTaintRuleOutcome.Removed;
}
