using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace SecureDra.TestKit.LeakCheck;

/// <summary>
/// The xUnit framework every test project names (<c>[assembly: TestFramework(LeakCheckingTestFramework.TypeName,
/// LeakCheckingTestFramework.AssemblyName)]</c>): xUnit's own, plus a check after the last test that the run left no
/// process behind and that no test class would be left undisposed. xUnit v2 has no assembly fixture, and a test that
/// ran last could not see the others' disposal; the assembly runner's end is the one place that sees everything.
/// </summary>
public sealed class LeakCheckingTestFramework : XunitTestFramework
{
    public const string TypeName = "SecureDra.TestKit.LeakCheck.LeakCheckingTestFramework";

    public const string AssemblyName = "SecureDra.TestKit";

    public LeakCheckingTestFramework(IMessageSink messageSink)
        : base(messageSink) =>
        TestRunMarker.MarkThisProcess();

    protected override ITestFrameworkExecutor CreateExecutor(AssemblyName assemblyName) =>
        new LeakCheckingTestFrameworkExecutor(assemblyName, SourceInformationProvider, DiagnosticMessageSink);
}
