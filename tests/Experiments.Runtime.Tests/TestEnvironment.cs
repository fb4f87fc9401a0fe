using System.Diagnostics;
using System.Reflection;
using Experiments.Runtime.Data;

[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

namespace Experiments.Runtime.Tests;

/// <summary>Paths and real data the tests share.</summary>
internal static class TestEnvironment
{
    public static string Metadata(string key) =>
        typeof(TestEnvironment).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    /// <summary>The repository's root folder (scripts, tests).</summary>
    public static string RepositoryRoot => Metadata("RepositoryRoot");

    private static readonly Lazy<IReadOnlyList<string>> MnistFiles = new(() => new DatasetProvisioner().Provide(DatasetSpec.Mnist));

    /// <summary>The real MNIST IDX files, provisioned (and verified) the way users get them.</summary>
    public static IReadOnlyList<string> Mnist => MnistFiles.Value;

    private static readonly Lazy<bool> Datasets = new(() =>
    {
        _ = MnistFiles.Value;
        _ = new DatasetProvisioner().Provide(DatasetSpec.FashionMnist);
        return true;
    });

    /// <summary>
    /// A child process of the catalog's command line (or of a shell that starts it). Both datasets are provisioned into
    /// this process's cache first, once, so that a child finds them there whatever order tests run in: a child that
    /// runs sandboxed (a file-size limit, a signal) must not be the one that fetches them.
    /// </summary>
    public static ProcessStartInfo ChildProcess(string fileName)
    {
        _ = Datasets.Value;
        return new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true };
    }

    /// <summary>Starts a child whose stdout and stderr lines are appended to <paramref name="output"/> as they come (read it with <see cref="Text"/>).</summary>
    public static Process StartCapturing(ProcessStartInfo start, System.Text.StringBuilder output)
    {
        Process process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public static string Text(System.Text.StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    public static string TempDirectory(string prefix) => Directory.CreateTempSubdirectory("experiments-test-" + prefix + "-").FullName;

    /// <summary>
    /// Sets environment variables of this process (null removes one) until disposed, then restores them. Only for tests
    /// in a collection that runs alone: every thread of the process sees them.
    /// </summary>
    public static IDisposable Variables(params (string Name, string? Value)[] variables)
    {
        (string Name, string? Value)[] before = variables.Select(v => (v.Name, Environment.GetEnvironmentVariable(v.Name))).ToArray();
        foreach ((string name, string? value) in variables)
        {
            Environment.SetEnvironmentVariable(name, value);
        }

        return new RestoreVariables(before);
    }

    private sealed class RestoreVariables((string Name, string? Value)[] before) : IDisposable
    {
        public void Dispose()
        {
            foreach ((string name, string? value) in before)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }
}
