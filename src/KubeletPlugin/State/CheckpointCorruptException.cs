namespace SecureDra.KubeletPlugin.State;

/// <summary>
/// The checkpoint exists but cannot be trusted. The plugin refuses to start (and to prepare)
/// rather than forget which GPUs are in use or dirty; the message names the file and what to do.
/// </summary>
public sealed class CheckpointCorruptException : Exception
{
    public CheckpointCorruptException() { }
    public CheckpointCorruptException(string message) : base(message) { }
    public CheckpointCorruptException(string message, Exception innerException) : base(message, innerException) { }

    public static CheckpointCorruptException For(string path, string problem, Exception? inner = null)
    {
        var message =
            $"checkpoint {path} is corrupt: {problem}. The plugin refuses to start so that no GPU in use or not yet scrubbed is handed out. " +
            $"To recover: make sure no pod on this node uses a GPU of this driver (drain it), move the file aside (mv {path} {path}.bad) and restart the plugin; " +
            "without a checkpoint it scrubs every GPU and publishes only those whose scrub verifies. Keep the moved file for the bug report.";
        return inner is null ? new CheckpointCorruptException(message) : new CheckpointCorruptException(message, inner);
    }
}
