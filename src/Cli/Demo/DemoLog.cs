using Microsoft.Extensions.Logging;
using SecureDra.Cli.Hosting;
using Serilog;

namespace SecureDra.Cli.Demo;

/// <summary>
/// A demo's log: the one JSON log shape (<see cref="LogSetup"/>) into <c>securedra.log</c> in its work directory, so the
/// narration on the terminal stays readable; <see cref="Logger"/> for the hosts it builds, <see cref="Factory"/> for the
/// parts it creates itself (API server, kubelet emulator, vendor plugin).
/// </summary>
internal sealed class DemoLog : IDisposable
{
    private readonly StreamWriter _file;

    /// <param name="share">What others may do with the open file (the MIG demo opens it again to read the scrub's lines back).</param>
    public DemoLog(string workDirectory, FileShare share = FileShare.Read)
    {
        Path = System.IO.Path.Combine(workDirectory, "securedra.log");
        _file = new StreamWriter(new FileStream(Path, FileMode.Create, FileAccess.Write, share)) { AutoFlush = true };
        Logger = LogSetup.CreateLogger(_file, Serilog.Events.LogEventLevel.Information);
        Factory = LoggerFactory.Create(b => b.AddSerilog(Logger, dispose: false));
    }

    public string Path { get; }

    public Serilog.Core.Logger Logger { get; }

    public ILoggerFactory Factory { get; }

    public void Dispose()
    {
        Factory.Dispose();
        Logger.Dispose();
        _file.Dispose();
    }
}
