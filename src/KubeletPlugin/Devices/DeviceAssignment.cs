namespace SecureDra.KubeletPlugin.Devices;

/// <summary>Who holds a device right now, independent of whether it is withdrawn.</summary>
public enum DeviceAssignment
{
    Free,
    Prepared,
    Scrubbing,
}
