using System.Text.RegularExpressions;
using SecureDra.Deploy.Tests.Infrastructure;

namespace SecureDra.Deploy.Tests;

/// <summary>No Docker engine runs here: the Dockerfile is checked as text, by construction.</summary>
public sealed partial class DockerfileTests
{
    private static readonly string Text = File.ReadAllText(Path.Combine(RepoPaths.Root, "Dockerfile"));

    /// <summary>Instructions with continuation lines joined and comments dropped.</summary>
    private static readonly List<(string Op, string Args)> Instructions = Parse(Text);

    private static List<(string Op, string Args)> Parse(string text)
    {
        var joined = Regex.Replace(text, @"\\\r?\n", " ");
        return joined.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l =>
            {
                var i = l.IndexOf(' ', StringComparison.Ordinal);
                return (l[..i].ToUpperInvariant(), l[(i + 1)..].Trim());
            })
            .ToList();
    }

    private static List<List<(string Op, string Args)>> Stages()
    {
        var stages = new List<List<(string, string)>>();
        foreach (var ins in Instructions)
        {
            if (ins.Op == "FROM")
            {
                stages.Add([]);
            }

            stages[^1].Add(ins);
        }

        return stages;
    }

    [Fact]
    public void Is_multi_stage_with_every_base_image_pinned_by_digest()
    {
        var froms = Instructions.Where(i => i.Op == "FROM").Select(i => i.Args).ToList();
        Assert.True(froms.Count >= 2, "multi-stage build expected");
        foreach (var from in froms)
        {
            Assert.Matches(PinnedImage(), from);
        }

        // A `# syntax=` directive pulls a frontend image at build time: it must be pinned too, or absent.
        foreach (var directive in Text.Split('\n').Where(l => l.StartsWith("# syntax=", StringComparison.OrdinalIgnoreCase)))
        {
            Assert.Matches(@"@sha256:[0-9a-f]{64}\s*$", directive);
        }

        Assert.Contains("mcr.microsoft.com/dotnet/sdk:10.0", froms[0], StringComparison.Ordinal);
        Assert.EndsWith(" AS build", froms[0], StringComparison.Ordinal);
        Assert.Contains("mcr.microsoft.com/dotnet/runtime-deps:10.0", froms[^1], StringComparison.Ordinal);
        Assert.Contains("chiseled", froms[^1], StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^\S+:[\w.\-]+@sha256:[0-9a-f]{64}(\s+AS\s+\w+)?$")]
    private static partial Regex PinnedImage();

    [Fact]
    public void Build_stage_publishes_the_cli_as_native_aot()
    {
        var run = string.Join("\n", Stages()[0].Where(i => i.Op == "RUN").Select(i => i.Args));
        Assert.Contains("dotnet publish src/Cli/SecureDra.Cli.csproj", run, StringComparison.Ordinal);
        Assert.Contains("-p:PublishAot=true", run, StringComparison.Ordinal);
        Assert.Contains("-c Release", run, StringComparison.Ordinal);
    }

    [Fact]
    public void Final_stage_runs_one_binary_as_a_numeric_non_root_user()
    {
        var final = Stages()[^1];
        var user = final.Last(i => i.Op == "USER").Args;
        Assert.Matches(@"^\d+(:\d+)?$", user);
        var uid = int.Parse(user.Split(':')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(0, uid);
        // The chart's controller runs as the image's user.
        Assert.Equal(65532, uid);
        Assert.Equal("[\"/securedra\"]", final.Single(i => i.Op == "ENTRYPOINT").Args);
        Assert.DoesNotContain(final, i => i.Op == "CMD");
        Assert.DoesNotContain(final, i => i.Op == "RUN");
        Assert.Contains(final, i => i.Op == "COPY" && i.Args.Contains("--from=build", StringComparison.Ordinal) && i.Args.EndsWith("/securedra", StringComparison.Ordinal));
    }

    [Fact]
    public void Holds_no_secrets_and_no_package_manager_caches()
    {
        foreach (var (op, args) in Instructions)
        {
            if (op is "ENV" or "ARG")
            {
                Assert.DoesNotMatch(@"(?i)(password|passwd|secret|token|api_?key|private_?key|credential)", args);
            }

            Assert.False(op == "ADD" && args.Contains("://", StringComparison.Ordinal), "remote ADD");
            Assert.DoesNotMatch(@"(?i)(apt-get|apt |apk |yum |dnf |microdnf|pip install|npm install)", op == "RUN" ? args : "");
            Assert.DoesNotMatch(@"(?i)--mount=type=secret", args);
        }

        Assert.DoesNotMatch(@"-----BEGIN [A-Z ]*PRIVATE KEY-----", Text);
    }

    [Fact]
    public void Dockerignore_sends_only_sources_and_never_keys()
    {
        var lines = File.ReadAllLines(Path.Combine(RepoPaths.Root, ".dockerignore")).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Equal("**", lines[0]);
        Assert.Contains("!src/", lines);
        Assert.Contains("!protos/", lines);
        Assert.DoesNotContain(lines, l => l is "!.git" or "!.git/" or "!.tools/" or "!tests/");
        Assert.Contains("**/*.key", lines);
        Assert.Contains("**/kubeconfig*", lines);
    }

    [Fact]
    public void Copies_only_what_the_dockerignore_lets_through()
    {
        var copies = Stages()[0].Where(i => i.Op == "COPY").SelectMany(i => i.Args.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1]).ToList();
        Assert.All(copies, c => Assert.Contains(c.TrimEnd('/'), new[] { "global.json", "Directory.Build.props", "Directory.Packages.props", "protos", "src" }));
    }
}
