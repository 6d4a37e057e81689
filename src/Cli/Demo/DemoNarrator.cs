using System.Diagnostics;

namespace SecureDra.Cli.Demo;

/// <summary>
/// The demo's progress display: numbered steps, each shown running and then done with its time,
/// and indented detail lines. Plain text with ANSI colour only on a terminal, so a CI log reads cleanly.
/// </summary>
internal sealed class DemoNarrator(TextWriter output, int totalSteps)
{
    private readonly bool _color = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;
    private readonly Stopwatch _total = Stopwatch.StartNew();
    private int _step;

    public TimeSpan Elapsed => _total.Elapsed;

    public void Title(string text) => output.WriteLine(Paint(text, "1"));

    /// <summary>Runs one step: prints its title, awaits it, prints ✓ and its duration (or ✗ and rethrows).</summary>
    public async Task<T> StepAsync<T>(string title, Func<Task<T>> action)
    {
        _step++;
        var prefix = $"[{_step}/{totalSteps}]";
        output.WriteLine($"{Paint(prefix, "36")} {title} …");
        var sw = Stopwatch.StartNew();
        try
        {
            var result = await action().ConfigureAwait(false);
            output.WriteLine($"      {Paint("✓", "32")} {sw.Elapsed.TotalMilliseconds:F0} ms");
            return result;
        }
        catch
        {
            output.WriteLine($"      {Paint("✗ failed", "31")} after {sw.Elapsed.TotalMilliseconds:F0} ms");
            throw;
        }
    }

    public async Task StepAsync(string title, Func<Task> action) =>
        await StepAsync<bool>(title, async () =>
        {
            await action().ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);

    public void Detail(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            output.WriteLine($"      {line.TrimEnd('\r')}");
        }
    }

    public void Good(string text) => Detail(Paint(text, "32"));

    public void Warn(string text) => Detail(Paint(text, "33"));

    /// <summary>A fixed-width table under the current step.</summary>
    public void Table(IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        Detail(Paint(string.Join("  ", headers.Select((h, i) => h.PadRight(widths[i]))), "1"));
        foreach (var row in rows)
        {
            Detail(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))));
        }
    }

    private string Paint(string text, string code) => _color ? $"\u001b[{code}m{text}\u001b[0m" : text;
}
