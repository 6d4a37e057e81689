// The plugin runs on Linux nodes only (Unix sockets, SIGKILL).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Every test starts its own processes in its own temp dir on free ports; two at a time keeps 2 cores usable.
[assembly: CollectionBehavior(MaxParallelThreads = 2)]

// After the last test: no process of this run left alive, no test class xUnit would leave undisposed (tests/README.md).
[assembly: TestFramework(SecureDra.TestKit.LeakCheck.LeakCheckingTestFramework.TypeName, SecureDra.TestKit.LeakCheck.LeakCheckingTestFramework.AssemblyName)]
