using System.Reflection;

namespace SecureDra.TestKit.LeakCheck;

/// <summary>
/// The test classes xUnit v2 would never dispose: it calls <see cref="IDisposable.Dispose"/> and
/// <see cref="IAsyncLifetime.DisposeAsync"/> on a test class, never <see cref="IAsyncDisposable.DisposeAsync"/>, so a class
/// that relies on that leaves its processes and temp directories behind (MigManagerProcessTests left seven managers per run).
/// </summary>
public static class UndisposedTestClasses
{
    public static IReadOnlyList<Type> Find(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        return assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && IsTestClass(t))
            .Where(t => typeof(IAsyncDisposable).IsAssignableFrom(t) && !typeof(IAsyncLifetime).IsAssignableFrom(t) && !typeof(IDisposable).IsAssignableFrom(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToList();
    }

    private static bool IsTestClass(Type type) =>
        type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static)
            .Any(m => m.GetCustomAttributes<FactAttribute>(inherit: true).Any());
}
