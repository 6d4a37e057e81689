namespace SecureDra.Observability.Changes;

/// <summary>
/// "Something changed: wake whoever waits for it", the one way SecureDra's state holders (the node's device inventory,
/// node hardening monitor, vendor health watcher and publication watermark; the controller's leadership state) let a
/// loop sleep until their next change (the node daemon's <c>ChangeOrTimeout</c> adds a deadline). It lives in this
/// lowest project because both the node daemon and the controller use it and neither may reference the other.
/// A waiter takes <see cref="Next"/> before it checks the state it waits on (or under the lock the change is made
/// under): a change after that check then completes the task it already holds, so no wake-up is lost between check
/// and wait. Continuations run asynchronously, so <see cref="Signal"/> may be called under the owner's lock without
/// running a waiter's code there.
/// </summary>
public sealed class ChangeSignal
{
    private TaskCompletionSource _next = NewSource();

    /// <summary>Completes at the next <see cref="Signal"/>, never before.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    /// <summary>Wakes every waiter that holds <see cref="Next"/>; whoever takes it afterwards waits for the signal after this one.</summary>
    public void Signal() => Interlocked.Exchange(ref _next, NewSource()).TrySetResult();

    /// <summary>Completes at the next <see cref="Signal"/>; cancelled with <paramref name="cancellationToken"/>.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => Next.WaitAsync(cancellationToken);

    /// <summary>Completes once <paramref name="condition"/> holds: checked now and again after every signal.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(condition);
        while (true)
        {
            var next = Next; // taken before the check: a signal between the check and the wait completes it
            if (condition())
            {
                return;
            }

            await next.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
