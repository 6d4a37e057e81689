using System.Text;
using SecureDra.Fuzz;

namespace SecureDra.Fuzz.Tests;

/// <summary>
/// Found by the scaling check (<c>securedra-fuzz scaling kubeconfig</c>), worse than issue 16 defect 2: 16 000 nested
/// flow mappings (96 KB, well under the 4 MiB the loader accepts) overflow the stack inside YamlDotNet's
/// <c>YamlStream.Load</c> (<c>YamlMappingNode.Load</c> recursion). A stack overflow kills the process; no catch can
/// turn it into a <c>KubeConfigException</c>, so the depth limit must stop the input before any recursive node
/// building. Too big for a corpus file, so it is built here; it runs in this test process, so it stays skipped
/// until the fix lands (a failure would take the test host down).
/// </summary>
public sealed class KubeconfigDepthTests
{
    [Theory]
    [InlineData("{\"a\":", "1", "}")]
    [InlineData("[", "1", "]")]
    [InlineData("a:\n", "", "")]
    public void Deep_nesting_is_refused_with_the_documented_error(string open, string middle, string close)
    {
        var text = new StringBuilder("a: ");
        for (var i = 0; i < 16_000; i++)
        {
            text.Append(open == "a:\n" ? new string(' ', 2 * i) + "a:\n" : open);
        }

        text.Append(middle);
        for (var i = 0; i < 16_000 && close.Length > 0; i++)
        {
            text.Append(close);
        }

        Assert.Equal(FuzzVerdict.Rejected, FuzzTargets.Create("kubeconfig").Run(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
