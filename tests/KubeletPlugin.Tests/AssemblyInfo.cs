// The plugin runs on Linux nodes only (Unix sockets, file modes).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Tests bind real sockets in per-test temp dirs; parallel classes are fine but keep CPU use modest on 2 cores.
[assembly: CollectionBehavior(MaxParallelThreads = 2)]

// After the last test: no process of this run left alive, no test class xUnit would leave undisposed (tests/README.md).
[assembly: TestFramework(SecureDra.TestKit.LeakCheck.LeakCheckingTestFramework.TypeName, SecureDra.TestKit.LeakCheck.LeakCheckingTestFramework.AssemblyName)]
