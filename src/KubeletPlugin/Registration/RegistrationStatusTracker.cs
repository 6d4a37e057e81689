namespace SecureDra.KubeletPlugin.Registration;

/// <summary>What the kubelet last told us through NotifyRegistrationStatus; feeds /readyz.</summary>
public sealed class RegistrationStatusTracker(TimeProvider time)
{
    private readonly Lock _lock = new();
    private RegistrationSnapshot _snapshot = new(RegistrationState.Pending, null, null);

    public RegistrationSnapshot Current
    {
        get { lock (_lock) { return _snapshot; } }
    }

    public void Record(bool registered, string? error)
    {
        var snapshot = new RegistrationSnapshot(
            registered ? RegistrationState.Registered : RegistrationState.Rejected,
            registered ? null : (string.IsNullOrEmpty(error) ? "kubelet rejected the registration without a reason" : error),
            time.GetUtcNow());
        lock (_lock)
        {
            _snapshot = snapshot;
        }
    }
}

public enum RegistrationState
{
    Pending,
    Registered,
    Rejected,
}

public sealed record RegistrationSnapshot(RegistrationState State, string? Error, DateTimeOffset? At);
