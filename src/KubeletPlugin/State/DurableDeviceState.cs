namespace SecureDra.KubeletPlugin.State;

/// <summary>The device states the checkpoint may hold; any other value makes the checkpoint corrupt.</summary>
public enum DurableDeviceState
{
    /// <summary>A verified scrub since the device's last use.</summary>
    Clean,

    /// <summary>Answered to the kubelet for <see cref="CheckpointDeviceRecord.Claim"/>.</summary>
    Prepared,

    /// <summary>Release of <see cref="CheckpointDeviceRecord.Claim"/> began; its scrub has not verified.</summary>
    Releasing,

    /// <summary>May hold tenant data; <see cref="CheckpointDeviceRecord.Reason"/> and <see cref="CheckpointDeviceRecord.Detail"/> say why.</summary>
    Dirty,
}
