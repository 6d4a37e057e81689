namespace SecureDra.EndToEnd.Tests.Fixture;

/// <summary>Awaits a condition by polling with a deadline; never a fixed sleep.</summary>
internal static class Poll
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    public static async Task UntilAsync(Func<Task<bool>> condition, string what, Func<string>? context = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
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
            catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
            {
                last = ex;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {(timeout ?? DefaultTimeout).TotalSeconds} s waiting until {what}{(last is null ? "" : $" (last error: {last.Message})")}\n{context?.Invoke()}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Asserts the condition holds at every poll for the whole duration (a negative must stay negative).</summary>
    public static async Task StaysAsync(Func<Task<bool>> condition, string what, TimeSpan duration, Func<string>? context = null)
    {
        var end = DateTime.UtcNow + duration;
        while (DateTime.UtcNow < end)
        {
            Assert.True(await condition(), $"expected {what} to hold for {duration.TotalSeconds} s\n{context?.Invoke()}");
            await Task.Delay(50);
        }
    }
}
