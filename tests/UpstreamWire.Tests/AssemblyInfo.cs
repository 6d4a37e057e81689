// The plugin runs on Linux nodes only (Unix sockets).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
