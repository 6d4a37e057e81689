using System.Reflection;
using Microsoft.Extensions.Logging;

namespace SecureDra.Cli.Tests;

/// <summary>
/// Log event IDs are the key operators filter and alert on: one ID must mean one message across every
/// subcommand's assemblies. Read from the compiled [LoggerMessage] attributes, so a new declaration anywhere
/// in the product is checked without a list to keep up to date.
/// </summary>
public sealed class EventIdRegistryTests
{
    private static IEnumerable<(string Method, int Id)> Declarations()
    {
        var assemblies = Directory.GetFiles(AppContext.BaseDirectory, "SecureDra.*.dll")
            .Select(Path.GetFileNameWithoutExtension)
            .Where(name => !name!.EndsWith(".Tests", StringComparison.Ordinal))
            .Select(name => Assembly.Load(name!));
        foreach (var assembly in assemblies)
        {
            foreach (var type in assembly.GetTypes())
            {
                foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
                {
                    if (method.GetCustomAttribute<LoggerMessageAttribute>() is { } attribute)
                    {
                        yield return ($"{type.FullName}.{method.Name}", attribute.EventId);
                    }
                }
            }
        }
    }

    [Fact]
    public void Every_log_message_has_its_own_event_id()
    {
        var declarations = Declarations().ToList();
        Assert.True(declarations.Count > 50, $"only {declarations.Count} [LoggerMessage] declarations found: are the product assemblies next to the tests?");
        Assert.All(declarations, d => Assert.True(d.Id > 0, $"{d.Method} has no EventId"));
        var shared = declarations.GroupBy(d => d.Id).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(d => d.Method))}").ToList();
        Assert.True(shared.Count == 0, "event IDs used for more than one message:\n" + string.Join("\n", shared));
    }
}
