using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace SecureDra.TestKit.LeakCheck;

/// <summary>xUnit's executor, running the tests through <see cref="LeakCheckingTestAssemblyRunner"/>.</summary>
internal sealed class LeakCheckingTestFrameworkExecutor(AssemblyName assemblyName, ISourceInformationProvider sourceInformationProvider, IMessageSink diagnosticMessageSink)
    : XunitTestFrameworkExecutor(assemblyName, sourceInformationProvider, diagnosticMessageSink)
{
    // async void is xUnit's signature: the runner reports completion through the message sink, not a task.
    protected override async void RunTestCases(IEnumerable<IXunitTestCase> testCases, IMessageSink executionMessageSink, ITestFrameworkExecutionOptions executionOptions)
    {
        using var runner = new LeakCheckingTestAssemblyRunner(TestAssembly, testCases, DiagnosticMessageSink, executionMessageSink, executionOptions);
        await runner.RunAsync();
    }
}
