namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// Where a device stands in its life on this node (docs/isolation.md). Only <see cref="Clean"/>
/// is offered to a tenant, and only without a withdrawal (health, MIG mode). The durable subset
/// (<see cref="State.DurableDeviceState"/>) is written to the checkpoint; <see cref="Reserved"/>
/// is durable as Clean (nothing reached the kubelet) and <see cref="Scrubbing"/> as the state it
/// started from.
/// </summary>
public enum DeviceState
{
    /// <summary>No durable proof of a verified scrub since its last use (no or legacy checkpoint, device replaced).</summary>
    Unknown,

    /// <summary>A scrub runs; the device is not offered until its verified outcome is durable.</summary>
    Scrubbing,

    /// <summary>A verified scrub since its last use is durable: offered unless withdrawn for another reason.</summary>
    Clean,

    /// <summary>Handed to a claim whose Prepare has not answered the kubelet yet; rolled back on failure or restart.</summary>
    Reserved,

    /// <summary>The kubelet has the claim's answer: a container may hold the device.</summary>
    Prepared,

    /// <summary>The kubelet asked to unprepare; its scrub has not verified yet.</summary>
    Releasing,

    /// <summary>May hold a former tenant's data (scrub failed, release interrupted, reboot, MIG mode): withdrawn until a scrub verifies.</summary>
    Dirty,
}
