namespace SecureDra.KubeletPlugin;

/// <summary>
/// The MIG manager's and its client's log event IDs (6950–6999), part of the assembly's one registry
/// (<see cref="EventIds"/>) but in a file of their own so parallel work on EventIds.cs does not collide.
/// </summary>
internal static partial class EventIds
{
    public static class MigManager
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
}
