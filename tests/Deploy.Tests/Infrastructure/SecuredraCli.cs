using System.Text.RegularExpressions;
using Kit = SecureDra.TestKit;

namespace SecureDra.Deploy.Tests.Infrastructure;

/// <summary>
/// The real <c>securedra</c> binary, built by the project reference (ReferenceOutputAssembly=false) and run through the
/// test kit's <see cref="Kit.SecuredraProcess"/>, which clears the variables the CLI reads so the developer's shell
/// cannot change a verdict; what <c>--help</c> lists, parsed once per subcommand.
/// </summary>
public static partial class SecuredraCli
{
    private static readonly Dictionary<string, Help> HelpCache = new(StringComparer.Ordinal);
    private static readonly Lock HelpLock = new();

    /// <summary>What <c>securedra SUB --help</c> lists: the long flag names and the environment variables named in descriptions.</summary>
    public sealed record Help(string Text, IReadOnlySet<string> Flags, IReadOnlySet<string> EnvironmentVariables);

    /// <summary>Runs <c>securedra ARGS</c> to the end through the test kit (the CLI's variables cleared, killed after 60 s).</summary>
    public static Tool.Result Run(params string[] args)
    {
        var result = Kit.SecuredraProcess.RunAsync(args, timeout: TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
        return new Tool.Result(result.ExitCode, result.Stdout, result.Stderr);
    }

    public static Help HelpOf(string subcommand)
    {
        lock (HelpLock)
        {
            if (HelpCache.TryGetValue(subcommand, out var cached))
            {
                return cached;
            }

            var result = Run(subcommand, "--help");
            Assert.True(result.ExitCode == 0, $"securedra {subcommand} --help exited {result.ExitCode}: {result.StdErr}");
            var text = result.StdOut;
            var options = text[(text.IndexOf("Options:", StringComparison.Ordinal) is var i and >= 0 ? i : 0)..];
            // Every long name of an option line, aliases included ("--log-format, --logging-format").
            var flags = OptionLine().Matches(options).SelectMany(m => m.Groups["names"].Value.Split(", "))
                .Where(name => name.StartsWith("--", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
            var env = EnvironmentName().Matches(options).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
            Assert.NotEmpty(flags);
            return HelpCache[subcommand] = new Help(text, flags, env);
        }
    }

    // "  --flag <value>   description", "  -?, -h, --help   description" or "  --name, --alias <value>": the names at the start of an option line.
    [GeneratedRegex(@"^\s{2}(?<names>-[^\s,]+(?:, -[^\s,]+)*)", RegexOptions.Multiline)]
    private static partial Regex OptionLine();

    // "(env NAME; default x)" and "[env NAME]" in descriptions, also when the help wraps between the words.
    [GeneratedRegex(@"\benv\s+(?<name>[A-Z][A-Z0-9_]+)")]
    private static partial Regex EnvironmentName();
}
