using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SecureDra.Nvml.Tests;

/// <summary>
/// Makes Debian's libnvidia-ml1 and libcuda1 available (installing them with .ci/run's
/// install_nvidia_libs when missing and running as root), and afterwards removes the
/// /dev/nvidiactl node these libraries create as root on a machine without a GPU.
/// </summary>
public sealed class NvidiaLibrariesFixture : IDisposable
{
    public NvidiaLibrariesFixture()
    {
        if (!Loadable("libnvidia-ml.so.1") || !Loadable("libcuda.so.1"))
        {
            InstallFromCiScript();
        }

        Missing = new[] { "libnvidia-ml.so.1", "libcuda.so.1" }.Where(l => !Loadable(l)).ToArray();
    }

    /// <summary>True on a machine with a loaded NVIDIA kernel driver: the no-driver assertions then do not apply.</summary>
    public static bool DriverLoaded => File.Exists("/proc/driver/nvidia/version");

    public IReadOnlyList<string> Missing { get; }

    public void RequireLibraries() =>
        Assert.True(Missing.Count == 0, $"NVIDIA user-space libraries missing: {string.Join(", ", Missing)}; run .ci/run's install_nvidia_libs (apt: libnvidia-ml1 libcuda1 from contrib/non-free)");

    public void Dispose()
    {
        // Without a kernel driver the node is useless and only exists because the libraries made it as root.
        if (!DriverLoaded && File.Exists("/dev/nvidiactl"))
        {
            File.Delete("/dev/nvidiactl");
        }
    }

    private static bool Loadable(string name)
    {
        if (!NativeLibrary.TryLoad(name, out var handle))
        {
            return false;
        }

        NativeLibrary.Free(handle);
        return true;
    }

    private static void InstallFromCiScript()
    {
        var script = FindUp(".ci/run");
        if (script is null || Environment.UserName != "root" || !File.Exists("/usr/bin/apt-get"))
        {
            return;
        }

        var info = new ProcessStartInfo("/bin/bash")
        {
            ArgumentList =
            {
                "-c",
                "log(){ echo \"$*\" >&2; }; source <(sed -n '/^install_nvidia_libs()/,/^}/p' \"$1\"); SUDO=''; install_nvidia_libs",
                "bash",
                script,
            },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(info);
        process?.WaitForExit(TimeSpan.FromMinutes(5));
    }

    private static string? FindUp(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

[CollectionDefinition(Name)]
public sealed class NvidiaLibrariesCollection : ICollectionFixture<NvidiaLibrariesFixture>
{
    public const string Name = "NVIDIA libraries";
}
