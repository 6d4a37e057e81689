using System.Reflection;
using Microsoft.Extensions.Logging;

namespace SecureDra.Cli.Tests;

/// <summary>
/// Log event IDs are the key operators filter and alert on: one ID must mean one message across every
/// subcommand's assemblies. Read from the compiled [LoggerMessage] attributes, so a new declaration anywhere
/// in the product is checked without a list to keep up to date.
/// </summary>
public sealed partial class EventIdRegistryTests
{
    /// <summary>The product assemblies next to the tests: SecureDra.*.dll and the executable's own securedra.dll.</summary>
    private static IEnumerable<Assembly> ProductAssemblies() =>
        Directory.GetFiles(AppContext.BaseDirectory, "SecureDra.*.dll").Append(Path.Combine(AppContext.BaseDirectory, "securedra.dll"))
            .Select(Path.GetFileNameWithoutExtension)
            .Where(name => !name!.EndsWith(".Tests", StringComparison.Ordinal))
            .Select(name => Assembly.Load(name!));

    private static IEnumerable<(string Method, int Id)> Declarations(Assembly assembly)
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

    private static IEnumerable<(string Method, int Id)> Declarations() => ProductAssemblies().SelectMany(Declarations);

    /// <summary>Every constant of the assembly's one registry, <c>&lt;root namespace&gt;.EventIds</c>, by value.</summary>
    private static Dictionary<int, string> Registry(Assembly assembly)
    {
        var registry = assembly.GetTypes().Where(t => t.Name == "EventIds" && t.DeclaringType is null).ToList();
        var ids = new Dictionary<int, string>();
        foreach (var nested in registry.SelectMany(r => r.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic)))
        {
            foreach (var field in nested.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral && f.FieldType == typeof(int)))
            {
                Assert.True(ids.TryAdd((int)field.GetRawConstantValue()!, $"{nested.Name}.{field.Name}"), $"{assembly.GetName().Name}: EventIds.{nested.Name}.{field.Name} repeats an ID of its registry");
            }
        }

        Assert.True(registry.Count <= 1, $"{assembly.GetName().Name} has {registry.Count} EventIds registries; one per assembly");
        return ids;
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

    [Fact]
    public void Every_event_id_comes_from_its_assemblys_one_registry_and_every_registered_id_is_used()
    {
        var checkedAssemblies = 0;
        foreach (var assembly in ProductAssemblies())
        {
            var used = Declarations(assembly).ToList();
            if (used.Count == 0)
            {
                continue;
            }

            checkedAssemblies++;
            var registry = Registry(assembly);
            var undeclared = used.Where(d => !registry.ContainsKey(d.Id)).Select(d => $"{d.Method} ({d.Id})").ToList();
            Assert.True(undeclared.Count == 0, $"{assembly.GetName().Name}: event IDs not declared in its EventIds.cs:\n" + string.Join("\n", undeclared));
            var unused = registry.Where(r => used.All(d => d.Id != r.Key)).Select(r => $"EventIds.{r.Value} ({r.Key})").ToList();
            Assert.True(unused.Count == 0, $"{assembly.GetName().Name}: EventIds.cs declares IDs no [LoggerMessage] uses:\n" + string.Join("\n", unused));
        }

        Assert.True(checkedAssemblies >= 7, $"only {checkedAssemblies} assemblies with log events: is securedra.dll next to the tests?");
    }

    [Fact]
    public void The_registry_check_is_not_vacuous_an_undeclared_id_is_caught()
    {
        // This test assembly declares a [LoggerMessage] without a registry: the same check must name it.
        var mine = Declarations(typeof(EventIdRegistryTests).Assembly).ToList();
        var probe = Assert.Single(mine);
        Assert.DoesNotContain(probe.Id, Registry(typeof(EventIdRegistryTests).Assembly).Keys);
    }

    [LoggerMessage(EventId = 7050, Level = LogLevel.Debug, Message = "probe for the registry check")]
    private static partial void Probe(ILogger logger);
}
