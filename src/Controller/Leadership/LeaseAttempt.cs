namespace SecureDra.Controller.Leadership;

/// <summary>The result of one acquire-or-renew round trip.</summary>
public enum LeaseAttempt
{
    /// <summary>We hold the lease (newly acquired or renewed).</summary>
    Held,

    /// <summary>Another holder's lease is still valid.</summary>
    HeldByOther,

    /// <summary>Conflict or API error: try again; leadership survives until the renew deadline.</summary>
    Failed,
}
