namespace SecureDra.KubeletPlugin.Proxy;

/// <summary>The vendor plugin the proxy forwards to, or null while none is connected.</summary>
public interface IVendorSource
{
    IVendorDraClient? Current { get; }
}
