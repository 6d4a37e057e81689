// The plugin runs on Linux nodes only (Unix sockets, file modes).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Each test runs a real plugin process; two at a time is what a 2-core CI machine takes without timeouts.
[assembly: CollectionBehavior(MaxParallelThreads = 2)]
