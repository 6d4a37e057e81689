namespace SecureDra.KubeletPlugin.Health;

public enum DeviceHealthStatus
{
    Unknown,
    Healthy,
    Unhealthy,
}

/// <summary>The health of one device as the kubelet's health stream reports it.</summary>
public sealed record DeviceHealth(string DeviceName, DeviceHealthStatus Status, string Message, DateTimeOffset LastUpdated);
