using Experiments.Runtime.Native;
using Experiments.Runtime.Snapshots;

namespace Experiments.Runtime.Hosting;

/// <summary>
/// One experiment run again in a fresh process of this program, returning its snapshot text: the determinism repeat
/// of `accept` (same environment), and runs under other CPU kernel sets (the kernel variables replaced), which can
/// only be chosen per process because each library reads its variable once when it initialises.
/// </summary>
internal static class ChildRun
{
    /// <summary>The experiment of a snapshot with the snapshot's profile, threads and device.</summary>
    public static string Snapshot(SnapshotDocument document, KernelSet? kernels, Action<string> log) => Snapshot(
        document.Experiment, ["run", document.Experiment, "--profile", document.Profile, "--threads", document.Environment["threads"], "--device", document.Environment["device"]], kernels, log);

    /// <param name="run">The `run` arguments that choose the experiment and its settings (output options are added here).</param>
    /// <param name="kernels">Null: inherit this process's environment unchanged; else clear every kernel variable and set this set's.</param>
    public static string Snapshot(string experiment, IReadOnlyList<string> run, KernelSet? kernels, Action<string> log)
    {
        string scratch = Directory.CreateTempSubdirectory("experiments-child-").FullName;
        try
        {
            string snapshotFile = Path.Combine(scratch, "snapshot.txt");
            string[] arguments = [.. run, "--out", Path.Combine(scratch, "results"), "--snapshot", snapshotFile];
            Dictionary<string, string?>? environment = kernels is null
                ? null
                : MachineInfo.KernelSelectionVariables.ToDictionary(v => v, v => kernels.Variables.GetValueOrDefault(v), StringComparer.Ordinal);
            log($"   {(kernels is null ? "repeating" : $"kernel set {kernels}")} in a separate process: {string.Join(' ', run)}");
            int exitCode = SelfProcess.Run(arguments, line => log("   | " + line), environment);
            if (exitCode != ExperimentsCli.Success)
            {
                throw new RunFailedException($"The run of '{experiment}'{(kernels is null ? "" : $" under kernel set {kernels.Name}")} exited with code {exitCode}.");
            }

            return File.ReadAllText(snapshotFile);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>
    /// <paramref name="approved"/>'s experiment under each set (the native one is the approved run itself, so it is
    /// skipped), run with <paramref name="run"/> (default: the snapshot's profile, threads and device).
    /// </summary>
    public static KernelEnvelope Envelope(SnapshotDocument approved, IReadOnlyList<KernelSet> sets, Action<string> log, IReadOnlyList<string>? run = null) =>
        KernelEnvelope.Measure(
            approved,
            sets.Where(s => s.Variables.Count > 0).Select(set => (set.Name, SnapshotDocument.Parse(
                run is null ? Snapshot(approved, set, log) : Snapshot(approved.Experiment, run, set, log), $"{approved.Experiment} under {set.Name}"))));
}
