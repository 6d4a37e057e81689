using System.Security.Cryptography;
using System.Text;

namespace SecureDra.KubeletPlugin.Hosting;

/// <summary>
/// Where the two sockets live. Names follow the Go helper (k8s.io/dynamic-resource-allocation
/// kubeletplugin): <c>&lt;driver&gt;-reg.sock</c> and <c>dra.sock</c>, or with a pod UID (rolling update)
/// <c>&lt;driver&gt;-&lt;podUID&gt;-reg.sock</c> and <c>dra-&lt;podUID&gt;.sock</c>.
/// <para>
/// A socket path must fit <c>sun_path</c> (108 bytes with the terminating NUL), so every path is
/// kept at most <see cref="MaxSocketPathBytes"/> bytes. Registration socket fall-backs are the Go
/// helper's (master): <c>&lt;driver&gt;-&lt;b64url(SHA-256(podUID)[:8])&gt;-reg.sock</c>, then
/// <c>dra-&lt;b64url(SHA-256(driver ‖ NUL ‖ podUID)[:16])&gt;-reg.sock</c>. The DRA socket uses the
/// same idea (our rule, the kubelet learns the path from GetInfo so any name works):
/// <c>dra-&lt;podUID&gt;.sock</c>, then <c>dra-&lt;b64url(SHA-256(podUID)[:8])&gt;.sock</c>. Base64url is
/// unpadded. If even the shortest name does not fit, start-up fails with a clear message.
/// </para>
/// </summary>
public sealed record PluginSocketLayout(string RegistrationSocketPath, string DraSocketPath, string PluginDataDirectory)
{
    /// <summary>
    /// The name the kubelet registers: <see cref="RegistrationSocketPath"/>, or with
    /// <see cref="KubeletPluginOptions.DeferRegistration"/> the same name without the leading '.' of the bound socket.
    /// </summary>
    public string VisibleRegistrationSocketPath { get; init; } = RegistrationSocketPath;

    /// <summary>sizeof(sun_path) on Linux is 108, including the terminating NUL.</summary>
    public const int MaxSocketPathBytes = 107;

    public static PluginSocketLayout Resolve(KubeletPluginOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var registrarDir = Path.GetFullPath(options.KubeletRegistrarDirectoryPath);
        var dataDir = Path.GetFullPath(options.PluginDataDirectory);
        var driver = options.DriverName;
        var podUid = options.PodUid;

        string registration;
        string dra;
        if (string.IsNullOrEmpty(podUid))
        {
            registration = Path.Combine(registrarDir, $"{driver}-reg.sock");
            dra = Path.Combine(dataDir, "dra.sock");
        }
        else
        {
            registration = FirstThatFits(
                "registration socket",
                Path.Combine(registrarDir, $"{driver}-{podUid}-reg.sock"),
                Path.Combine(registrarDir, $"{driver}-{Hash(Encoding.UTF8.GetBytes(podUid), 8)}-reg.sock"),
                Path.Combine(registrarDir, $"dra-{Hash(Encoding.UTF8.GetBytes(driver + "\0" + podUid), 16)}-reg.sock"));
            dra = FirstThatFits(
                "DRA socket",
                Path.Combine(dataDir, $"dra-{podUid}.sock"),
                Path.Combine(dataDir, $"dra-{Hash(Encoding.UTF8.GetBytes(podUid), 8)}.sock"));
        }

        var visible = FirstThatFits("registration socket", registration);
        var bound = options.DeferRegistration
            ? FirstThatFits("registration socket", Path.Combine(Path.GetDirectoryName(visible)!, "." + Path.GetFileName(visible)))
            : visible;
        return new PluginSocketLayout(bound, FirstThatFits("DRA socket", dra), dataDir) { VisibleRegistrationSocketPath = visible };
    }

    public static bool Fits(string path) => Encoding.UTF8.GetByteCount(path) <= MaxSocketPathBytes;

    private static string FirstThatFits(string what, params string[] candidates)
    {
        foreach (var candidate in candidates)
        {
            if (Fits(candidate))
            {
                return candidate;
            }
        }

        throw new KubeletPluginConfigurationException(
            $"{what} path \"{candidates[^1]}\" is {Encoding.UTF8.GetByteCount(candidates[^1])} bytes, over the Unix socket limit of {MaxSocketPathBytes}; use a shorter directory");
    }

    private static string Hash(byte[] input, int bytes)
    {
        var digest = SHA256.HashData(input);
        return Convert.ToBase64String(digest, 0, bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
