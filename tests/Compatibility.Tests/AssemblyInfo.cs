// The plugin runs on Linux nodes only (Unix sockets, file modes).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Each test runs a real plugin process; two at a time is what a 2-core CI machine takes without timeouts.
[assembly: CollectionBehavior(MaxParallelThreads = 2)]

// After the last test: no process of this run left alive, no test class xUnit would leave undisposed (tests/README.md).
[assembly: TestFramework(SecureDra.TestKit.LeakCheck.LeakCheckingTestFramework.TypeName, SecureDra.TestKit.LeakCheck.LeakCheckingTestFramework.AssemblyName)]
