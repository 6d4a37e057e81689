using System.Diagnostics;
using System.Text;

namespace SecureDra.Deploy.Tests.Infrastructure;

/// <summary>Runs helm and node as real processes, with a timeout, and says clearly what is missing.</summary>
public static class Tool
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static Result Run(string fileName, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["SECUREDRA_TOOLS_DIR"] = RepoPaths.ToolsDir;
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException(
                $"{fileName} is not installed ({e.Message}); run install_node_tools from .ci/run (tools dir {RepoPaths.ToolsDir})", e);
        }

        using (process)
        {
            var stdout = new StringBuilder();
            var stderr = new StringBuilder();
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) stdout.Append(e.Data).Append('\n'); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) stderr.Append(e.Data).Append('\n'); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{fileName} {string.Join(' ', args)} did not finish");
            }

            process.WaitForExit();
            return new Result(process.ExitCode, stdout.ToString(), stderr.ToString());
        }
    }

    public static string RunOk(string fileName, params string[] args)
    {
        var r = Run(fileName, args);
        Assert.True(r.ExitCode == 0, $"{fileName} {string.Join(' ', args)} exited {r.ExitCode}:\n{r.StdErr}\n{r.StdOut}");
        return r.StdOut;
    }

    public static string Helm(params string[] args) => RunOk(RepoPaths.Helm, args);

    public static string Node(string script, params string[] args) =>
        RunOk("node", [Path.Combine(RepoPaths.Scripts, script), .. args]);
}
