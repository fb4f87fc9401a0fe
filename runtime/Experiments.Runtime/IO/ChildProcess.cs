using System.Diagnostics;

namespace Experiments.Runtime.IO;

/// <summary>An external program (git, sbatch, dotnet publish) run to completion, its output captured.</summary>
public static class ChildProcess
{
    /// <param name="command">The program and its arguments.</param>
    /// <param name="workingDirectory">Null: this process's folder.</param>
    /// <exception cref="FileNotFoundException">The program cannot be started (not installed or not on PATH).</exception>
    public static (int ExitCode, string Stdout, string Stderr) Capture(IReadOnlyList<string> command, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory ?? "" };
        foreach (string argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new FileNotFoundException($"Could not start {command[0]}.", command[0]);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new FileNotFoundException($"Cannot start {command[0]}: {e.Message}. Is it installed and on PATH?", command[0], e);
        }

        using (process)
        {
            // Both streams drained at once: a child that fills one pipe while we wait on the other would block forever.
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            string stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout.Result, stderr);
        }
    }
}
