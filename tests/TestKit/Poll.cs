using System.Diagnostics;

namespace SecureDra.TestKit;

/// <summary>
/// Waits for a condition by polling with a deadline: the one way the suite waits for another thread or process.
/// Never a fixed sleep; on timeout the failure names what was awaited, the last transient error and the context.
/// </summary>
public static class Poll
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null, Func<string>? context = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, timeout, context);

    /// <summary>As <see cref="UntilAsync(Func{Task{bool}}, string, TimeSpan?, Func{string}?)"/>, the context first.</summary>
    public static Task UntilAsync(Func<Task<bool>> condition, string what, Func<string> context, TimeSpan? timeout = null) =>
        UntilAsync(condition, what, timeout, context);

    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, Func<string>? context = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }

                last = null;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
            {
                last = e;
            }

            if (clock.Elapsed > limit)
            {
                Assert.Fail($"timed out after {limit.TotalSeconds:0.#} s waiting until {what}"
                    + (last is null ? "" : $" (last error: {last.GetType().Name}: {last.Message})")
                    + (context is null ? "" : "\n" + context()));
            }

            await Task.Delay(Interval);
        }
    }

    /// <summary>Polls <paramref name="probe"/> until it returns a value (not null), and returns it.</summary>
    public static async Task<T> ForAsync<T>(Func<Task<T?>> probe, string what, TimeSpan? timeout = null, Func<string>? context = null)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(probe);
        T? found = null;
        await UntilAsync(async () => (found = await probe()) is not null, what, timeout, context);
        return found!;
    }

    /// <summary>
    /// A safety check over a window: asserts <paramref name="condition"/> holds at every poll for <paramref name="duration"/>.
    /// It can only fail when the property breaks (a device published while it must stay withdrawn), never because the
    /// machine is slow; it is not a way to wait for something to happen.
    /// </summary>
    public static async Task StaysAsync(Func<Task<bool>> condition, string what, TimeSpan duration, Func<string>? context = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            Assert.True(await condition(), $"expected {what} to hold for {duration.TotalSeconds:0.#} s" + (context is null ? "" : "\n" + context()));
            await Task.Delay(Interval);
        }
    }
}
