namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// A node-wide condition under which no device may be published (the node hardening checks with
/// <c>--require-node-hardening</c>). While closed, the publisher keeps the pool but empty; it
/// reconciles again as soon as the gate changes.
/// </summary>
public interface IDevicePublicationGate
{
    bool PublicationAllowed { get; }

    /// <summary>
    /// Completes at the next change of <see cref="PublicationAllowed"/> after it was taken: take it before reading
    /// <see cref="PublicationAllowed"/>, so a change in between is not missed.
    /// </summary>
    Task Changed { get; }
}
