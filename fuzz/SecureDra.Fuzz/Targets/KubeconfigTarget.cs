using System.Text;
using SecureDra.Kube.Config;

namespace SecureDra.Fuzz.Targets;

/// <summary>
/// <see cref="KubeconfigLoader.Parse"/> on the text of a kubeconfig (the operator's file; relative paths resolve
/// against a directory that does not exist). Documented: a kubeconfig that cannot be used is a
/// <see cref="KubeConfigException"/> naming the field. Oracles: no other exception type (issue 16 defect 5),
/// time roughly linear in size (defect 2, checked by the hang bound of the engines and the scaling check), and
/// an accepted kubeconfig names an http(s) server and never sends credentials over plain http to a remote host.
/// </summary>
public sealed class KubeconfigTarget : IFuzzTarget
{
    private const string Origin = "/nonexistent-fuzz/kubeconfig";

    public string Name => "kubeconfig";

    public int MaxInputBytes => 32 * 1024;

    public FuzzVerdict Run(ReadOnlySpan<byte> input)
    {
        KubeConnectionSettings settings;
        try
        {
            settings = KubeconfigLoader.Parse(Encoding.UTF8.GetString(input), Origin);
        }
        catch (KubeConfigException)
        {
            return FuzzVerdict.Rejected;
        }
        catch (Exception ex)
        {
            throw FuzzFindingException.Escaped(Name, ex);
        }

        var server = settings.Server;
        if (server is null || !server.IsAbsoluteUri || server.Scheme is not ("http" or "https"))
        {
            throw FuzzFindingException.WrongAccept(Name, $"server {server} is not an absolute http(s) URL");
        }

        if (server.Scheme == "http" && !server.IsLoopback && (settings.TokenSource is not null || settings.ClientCertificate is not null))
        {
            throw FuzzFindingException.WrongAccept(Name, $"credentials over plain http to {server}");
        }

        if (settings.InsecureSkipTlsVerify && settings.CertificateAuthorities is not null)
        {
            throw FuzzFindingException.WrongAccept(Name, "insecure-skip-tls-verify together with a certificate authority");
        }

        return FuzzVerdict.Accepted;
    }
}
