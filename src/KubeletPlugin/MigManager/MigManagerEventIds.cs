namespace SecureDra.KubeletPlugin.MigManager;

/// <summary>
/// Log event IDs of the MIG manager and its client (6950–6999), kept beside them rather than in the assembly's
/// EventIds.cs so parallel work on that file does not collide; tests/Cli.Tests/EventIdRegistryTests checks uniqueness
/// over the whole product either way.
/// </summary>
internal static class MigManagerEventIds
{
    public const int Listening = 6950;
    public const int PeerRefused = 6951;
    public const int NoCredentials = 6952;
    public const int RequestRefused = 6953;
    public const int OperationFailed = 6954;

    public const int Unreachable = 6960;
    public const int Reachable = 6961;
    public const int CallFailed = 6962;
    public const int PlacementsMarkedDirty = 6963;
    public const int CheckFailed = 6964;
}
