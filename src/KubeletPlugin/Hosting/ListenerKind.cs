namespace SecureDra.KubeletPlugin.Hosting;

/// <summary>Which listener a connection came in on; each serves only its own paths.</summary>
public enum ListenerKind
{
    Registration,
    Dra,
    Http,
}
