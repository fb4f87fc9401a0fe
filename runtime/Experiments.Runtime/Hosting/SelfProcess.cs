using System.Diagnostics;
using System.Reflection;

namespace Experiments.Runtime.Hosting;

/// <summary>Starts this program again as a child process (for runs that must not share a process with their peer).</summary>
public static class SelfProcess
{
    /// <summary>The variables from which `run` takes a shard (see <see cref="Shard.FromEnvironment"/>).</summary>
    public static readonly IReadOnlyList<string> SchedulerVariables = ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "JOB_COMPLETION_INDEX"];

    /// <param name="environment">Variables to set in the child (a null value removes one); the rest is inherited.</param>
    public static int Run(IEnumerable<string> arguments, Action<string> output, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };

        // A child is one piece of this process's work (a seed worker, a repeat): it must not take a scheduler's task
        // index as its own shard when this process runs inside a Slurm array or an Indexed Job.
        foreach (string variable in SchedulerVariables)
        {
            start.Environment.Remove(variable);
        }

        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        string host = Environment.ProcessPath ?? throw new InvalidOperationException("The path of this process is unknown.");
        start.FileName = host;
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            // Started as `dotnet program.dll`: the child needs the same assembly.
            start.ArgumentList.Add(Assembly.GetEntryAssembly()?.Location ?? throw new InvalidOperationException("No entry assembly."));
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {host}.");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { output(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { output(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.WaitForExit();
        return process.ExitCode;
    }
}
