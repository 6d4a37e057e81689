// After the last test: no process of this run left alive, no test class xUnit would leave undisposed (tests/README.md).
[assembly: TestFramework(SecureDra.TestKit.LeakCheck.LeakCheckingTestFramework.TypeName, SecureDra.TestKit.LeakCheck.LeakCheckingTestFramework.AssemblyName)]
