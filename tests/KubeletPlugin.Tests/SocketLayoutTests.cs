using System.Security.Cryptography;
using System.Text;
using SecureDra.KubeletPlugin.Hosting;

namespace SecureDra.KubeletPlugin.Tests;

public class SocketLayoutTests
{
    private const string PodUid = "0b9d6f3e-7c1a-4e55-8d2b-1f6a9c3e5d70";

    [Fact]
    public void Defaults_match_the_go_helper()
    {
        var layout = PluginSocketLayout.Resolve(new KubeletPluginOptions { NodeName = "n" });
        Assert.Equal("/var/lib/kubelet/plugins_registry/gpu.nvidia.com-reg.sock", layout.RegistrationSocketPath);
        Assert.Equal("/var/lib/kubelet/plugins/gpu.nvidia.com/dra.sock", layout.DraSocketPath);
    }

    [Fact]
    public void Rolling_update_names_when_they_fit()
    {
        var layout = PluginSocketLayout.Resolve(new KubeletPluginOptions { NodeName = "n", PodUid = PodUid });
        Assert.Equal($"/var/lib/kubelet/plugins_registry/gpu.nvidia.com-{PodUid}-reg.sock", layout.RegistrationSocketPath);
        Assert.Equal($"/var/lib/kubelet/plugins/gpu.nvidia.com/dra-{PodUid}.sock", layout.DraSocketPath);
    }

    [Fact]
    public void First_fallback_hashes_the_pod_uid()
    {
        var registrar = "/r/" + new string('x', 45);
        var layout = PluginSocketLayout.Resolve(new KubeletPluginOptions { NodeName = "n", PodUid = PodUid, KubeletRegistrarDirectoryPath = registrar, KubeletPluginsDirectoryPath = "/p/" + new string('y', 50) });
        var hash8 = B64(SHA256.HashData(Encoding.UTF8.GetBytes(PodUid)).AsSpan(0, 8).ToArray());
        Assert.Equal($"{registrar}/gpu.nvidia.com-{hash8}-reg.sock", layout.RegistrationSocketPath);
        Assert.Equal($"/p/{new string('y', 50)}/gpu.nvidia.com/dra-{hash8}.sock", layout.DraSocketPath);
        Assert.Equal(11, hash8.Length);
    }

    [Fact]
    public void Second_fallback_hashes_driver_and_pod_uid()
    {
        // The second fall-back only helps with long driver names: it replaces the driver name too.
        const string driver = "averyveryverylongdrivername.example.com";
        var registrar = "/r/" + new string('x', 55);
        var layout = PluginSocketLayout.Resolve(new KubeletPluginOptions { NodeName = "n", DriverName = driver, PodUid = PodUid, KubeletRegistrarDirectoryPath = registrar });
        var hash16 = B64(SHA256.HashData(Encoding.UTF8.GetBytes(driver + "\0" + PodUid)).AsSpan(0, 16).ToArray());
        Assert.Equal($"{registrar}/dra-{hash16}-reg.sock", layout.RegistrationSocketPath);
        Assert.Equal(22, hash16.Length);
        Assert.True(Encoding.UTF8.GetByteCount(layout.RegistrationSocketPath) <= PluginSocketLayout.MaxSocketPathBytes);
    }

    [Fact]
    public void Nothing_fits_is_a_clear_error()
    {
        var ex = Assert.Throws<KubeletPluginConfigurationException>(() =>
            PluginSocketLayout.Resolve(new KubeletPluginOptions { NodeName = "n", KubeletRegistrarDirectoryPath = "/r/" + new string('x', 120) }));
        Assert.Contains("over the Unix socket limit of 107", ex.Message, StringComparison.Ordinal);
    }

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
