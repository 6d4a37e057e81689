namespace SecureDra.KubeletPlugin.Devices;

/// <summary>A claim asked for a device it cannot have now (held by another claim, scrubbing, withdrawn, unknown).</summary>
public sealed class DeviceReservationException : Exception
{
    public DeviceReservationException() { }
    public DeviceReservationException(string message) : base(message) { }
    public DeviceReservationException(string message, Exception innerException) : base(message, innerException) { }
}
