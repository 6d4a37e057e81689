using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SecureDra.TestKit.LeakCheck;

/// <summary>One process of this test run still alive after the last test: its id and command line.</summary>
public sealed record LeftoverProcess(int Pid, string CommandLine);

/// <summary>
/// Finds the processes that carry this run's <see cref="TestRunMarker"/> (read from /proc/PID/environ, so a process
/// orphaned to init still counts) and kills them, so one test's leak cannot exhaust the user's inotify instances or
/// sockets for the next project.
/// </summary>
public static class LeftoverProcesses
{
    private static readonly byte[] Needle = Encoding.ASCII.GetBytes($"{TestRunMarker.Name}={TestRunMarker.Value}\0");

    /// <summary>The live processes of this run other than this one (a zombie has no environment and is not counted).</summary>
    public static IReadOnlyList<LeftoverProcess> Find()
    {
        var found = new List<LeftoverProcess>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                if (Marked(File.ReadAllBytes(Path.Combine(entry, "environ"))))
                {
                    found.Add(new LeftoverProcess(pid, File.ReadAllText(Path.Combine(entry, "cmdline")).Replace('\0', ' ').Trim()));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or another user's process: not ours.
            }
        }

        return found;
    }

    /// <summary>
    /// Waits up to <paramref name="grace"/> for this run's processes to end (one a test just killed may still be
    /// exiting), then kills the rest and returns them.
    /// </summary>
    public static async Task<IReadOnlyList<LeftoverProcess>> ReapAsync(TimeSpan grace)
    {
        var clock = Stopwatch.StartNew();
        var left = Find();
        while (left.Count > 0 && clock.Elapsed < grace)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100));
            left = Find();
        }

        foreach (var process in left)
        {
            try
            {
                using var p = Process.GetProcessById(process.Pid);
                p.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Ended meanwhile.
            }
        }

        return left;
    }

    private static bool Marked(byte[] environ)
    {
        // Each variable ends with NUL; match at the start or after a NUL.
        var span = environ.AsSpan();
        var at = 0;
        while (at < span.Length)
        {
            var index = span[at..].IndexOf(Needle);
            if (index < 0)
            {
                return false;
            }

            var position = at + index;
            if (position == 0 || span[position - 1] == 0)
            {
                return true;
            }

            at = position + 1;
        }

        return false;
    }
}
