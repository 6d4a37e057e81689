using System.Text;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace SecureDra.TestKit.LeakCheck;

/// <summary>
/// After the last test: a process this run started and left alive (found by <see cref="TestRunMarker"/>) is killed and
/// reported, and so is a test class xUnit would never dispose. Either is a "[Test Assembly Cleanup Failure]", which
/// fails <c>dotnet test</c> (vstest treats an adapter error as a failed run).
/// </summary>
internal sealed class LeakCheckingTestAssemblyRunner(
    ITestAssembly testAssembly,
    IEnumerable<IXunitTestCase> testCases,
    IMessageSink diagnosticMessageSink,
    IMessageSink executionMessageSink,
    ITestFrameworkExecutionOptions executionOptions)
    : XunitTestAssemblyRunner(testAssembly, testCases, diagnosticMessageSink, executionMessageSink, executionOptions)
{
    // A process a test killed (SIGKILL) is gone within milliseconds; one that still runs after this was never stopped.
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(15);

    protected override async Task BeforeTestAssemblyFinishedAsync()
    {
        var undisposed = UndisposedTestClasses.Find(((IReflectionAssemblyInfo)TestAssembly.Assembly).Assembly);
        if (undisposed.Count > 0)
        {
            Aggregator.Add(new UndisposedTestClassException(
                "xUnit v2 never calls IAsyncDisposable.DisposeAsync on a test class (only IDisposable and IAsyncLifetime), so these leak "
                + "what they start; implement IAsyncLifetime: " + string.Join(", ", undisposed.Select(t => t.FullName))));
        }

        var leftovers = await LeftoverProcesses.ReapAsync(Grace);
        if (leftovers.Count > 0)
        {
            var message = new StringBuilder($"{leftovers.Count} process(es) started by this test run were still running {Grace.TotalSeconds:0} s after the last test (now killed); "
                + "a test or fixture does not stop what it starts:");
            foreach (var process in leftovers)
            {
                message.Append("\n  pid ").Append(process.Pid).Append(": ").Append(process.CommandLine);
            }

            Aggregator.Add(new LeakedProcessesException(message.ToString()));
        }

        // Only now: the processes that might still read its files are gone.
        TestRunDirectory.Delete();
        await base.BeforeTestAssemblyFinishedAsync();
    }
}
