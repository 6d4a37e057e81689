namespace SecureDra.KubeletPlugin.Devices;

/// <summary>
/// The Node object's UID once the slice publisher has read it (for its owner reference), so Node
/// Events can name the exact Node without an API call of their own. Null until then.
/// </summary>
public sealed class NodeIdentity
{
    private string? _uid;

    public string? Uid
    {
        get => Volatile.Read(ref _uid);
        set => Volatile.Write(ref _uid, value);
    }
}
