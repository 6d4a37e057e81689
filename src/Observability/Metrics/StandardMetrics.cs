using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace SecureDra.Observability.Metrics;

/// <summary>
/// The metrics every SecureDra component exposes under the same names (plugin, controller, proxy): the Prometheus
/// client conventions' <c>process_*</c> family, .NET runtime metrics (<c>dotnet_*</c>), and
/// <c>securedra_build_info</c>. Read at scrape time by a collector, so they cost nothing between scrapes.
/// </summary>
/// <remarks>
/// Every label set here is closed: <c>generation</c> is 0-2, <c>component</c> is a name written in code, and
/// <c>version</c>/<c>commit</c>/<c>runtime</c> are fixed for the life of the process. The values come from the
/// kernel (<c>/proc/self</c>) and the runtime's own counters, not from a library, so nothing here adds a dependency
/// or a background thread.
/// </remarks>
public static class StandardMetrics
{
    /// <summary>Registers the standard families on <paramref name="registry"/>, once per registry.</summary>
    /// <param name="component">kubelet-plugin, controller, proxy…: a name written in code.</param>
    public static void Register(MetricsRegistry registry, string component)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(component);
        var cpu = registry.Counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.");
        var resident = registry.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
        var virtualMemory = registry.Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.");
        var openFds = registry.Gauge("process_open_fds", "Number of open file descriptors.");
        var maxFds = registry.Gauge("process_max_fds", "Maximum number of open file descriptors (the soft RLIMIT_NOFILE).");
        var startTime = registry.Gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.");
        var collections = registry.Counter("dotnet_gc_collections_total", "Garbage collections since the process started, by generation.", "generation");
        var heap = registry.Gauge("dotnet_gc_heap_size_bytes", "Bytes of the managed heap after the last garbage collection (all generations and the large-object heap).");
        var committed = registry.Gauge("dotnet_gc_committed_bytes", "Bytes of memory the garbage collector has committed from the operating system.");
        var generations = registry.Gauge("dotnet_gc_generation_size_bytes", "Bytes in each part of the managed heap after the last garbage collection, free space included: generations 0-2, the large-object heap (loh) and the pinned-object heap (poh).", "generation");
        var fragmented = registry.Gauge("dotnet_gc_fragmented_bytes", "Free space inside the managed heap after the last garbage collection (counted in dotnet_gc_heap_size_bytes, holding no object).");
        var allocated = registry.Counter("dotnet_gc_allocated_bytes_total", "Bytes allocated on the managed heap since the process started.");
        var pause = registry.Counter("dotnet_gc_pause_seconds_total", "Time the garbage collector paused the process, in seconds.");
        var threads = registry.Gauge("dotnet_threadpool_threads", "Thread pool threads that exist now.");
        var queue = registry.Gauge("dotnet_threadpool_queue_length", "Work items queued to the thread pool and not started yet.");
        var completed = registry.Counter("dotnet_threadpool_completed_items_total", "Work items the thread pool has completed.");
        var build = registry.Gauge("securedra_build_info", "Always 1; the labels say which build runs: component, version, commit, .NET runtime.", "component", "version", "commit", "runtime");

        using (var self = Process.GetCurrentProcess())
        {
            startTime.Set(new DateTimeOffset(self.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0);
        }

        var (version, commit) = BuildIdentity();
        build.Set(1, component, version, commit, Environment.Version.ToString());

        registry.AddCollector("standard", () =>
        {
            cpu.Sample(Environment.CpuUsage.TotalTime.TotalSeconds);
            var (rss, vsize) = Memory();
            resident.Set(rss);
            virtualMemory.Set(vsize);
            if (OpenDescriptors() is { } open)
            {
                openFds.Set(open);
            }

            if (MaxDescriptors() is { } max)
            {
                maxFds.Set(max);
            }

            for (var generation = 0; generation <= GC.MaxGeneration && generation <= 2; generation++)
            {
                collections.Sample(GC.CollectionCount(generation), Generations[generation]);
            }

            var info = GC.GetGCMemoryInfo();
            heap.Set(info.HeapSizeBytes);
            committed.Set(info.TotalCommittedBytes);
            fragmented.Set(info.FragmentedBytes);
            var parts = info.GenerationInfo;
            for (var part = 0; part < parts.Length && part < HeapParts.Length; part++)
            {
                generations.Set(parts[part].SizeAfterBytes, HeapParts[part]);
            }

            allocated.Sample(GC.GetTotalAllocatedBytes());
            pause.Sample(GC.GetTotalPauseDuration().TotalSeconds);
            threads.Set(ThreadPool.ThreadCount);
            queue.Set(ThreadPool.PendingWorkItemCount);
            completed.Sample(ThreadPool.CompletedWorkItemCount);
        });
    }

    private static readonly string[] Generations = ["0", "1", "2"];

    /// <summary>The parts GCMemoryInfo.GenerationInfo reports, in its order: a closed label set.</summary>
    private static readonly string[] HeapParts = ["0", "1", "2", "loh", "poh"];

    /// <summary>
    /// The entry assembly's informational version (the one release number, Directory.Build.props) and the commit it was
    /// built from (the SourceRevisionId assembly metadata the build stamps; "unknown" when it was built outside git).
    /// </summary>
    public static (string Version, string Commit) BuildIdentity()
    {
        var assembly = Assembly.GetEntryAssembly();
        var version = assembly?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        var commit = assembly?.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "SourceRevisionId")?.Value;
        return (version, string.IsNullOrEmpty(commit) ? "unknown" : commit);
    }

    /// <summary>Resident and virtual size from /proc/self/statm (pages); the runtime's view elsewhere.</summary>
    private static (double Resident, double Virtual) Memory()
    {
        try
        {
            var fields = File.ReadAllText("/proc/self/statm").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var page = (double)Environment.SystemPageSize;
            return (double.Parse(fields[1], CultureInfo.InvariantCulture) * page, double.Parse(fields[0], CultureInfo.InvariantCulture) * page);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            using var self = Process.GetCurrentProcess();
            return (self.WorkingSet64, self.VirtualMemorySize64);
        }
    }

    private static int? OpenDescriptors()
    {
        try
        {
            return Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The soft limit of "Max open files" in /proc/self/limits.</summary>
    private static double? MaxDescriptors()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return soft == "unlimited" ? null : double.Parse(soft, CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
        }

        return null;
    }
}
