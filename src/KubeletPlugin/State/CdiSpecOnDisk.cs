namespace SecureDra.KubeletPlugin.State;

/// <summary>A prepared claim's CDI spec file against the bytes its checkpoint entry implies.</summary>
public enum CdiSpecOnDisk
{
    Missing,
    Same,
    Different,
}
