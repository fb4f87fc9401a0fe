using Experiments.Runtime.IO;
using Experiments.Runtime.Training;
using System.Text;
using DiffPlex.Renderer;

namespace Experiments.Runtime.Snapshots;

/// <summary>The outcome of verifying one run against its approved snapshot.</summary>
/// <param name="Comparison">Null when there was no approved snapshot to compare with.</param>
/// <param name="Message">What a reviewer needs: the mode, the differences, a diff, and how to approve.</param>
public sealed record Verification(bool Passed, string VerifiedPath, string ReceivedPath, SnapshotComparison? Comparison, string Message);

/// <summary>
/// Verify's conventions for experiment results: the approved <c>NAME.verified.txt</c> is committed; a run that does not
/// match writes <c>NAME.received.txt</c> beside it (git-ignored) and fails with a diff; approving turns received into
/// verified after proving the run repeats bit for bit (<see cref="SnapshotApproval"/>).
/// </summary>
public static class SnapshotVerifier
{
    public const string VerifiedSuffix = ".verified.txt";
    public const string ReceivedSuffix = ".received.txt";

    public static string VerifiedPath(string directory, string experiment) => Path.Combine(directory, experiment + VerifiedSuffix);

    public static string ReceivedPath(string directory, string experiment) => Path.Combine(directory, experiment + ReceivedSuffix);

    /// <param name="approveHint">The command that approves received snapshots in this repository (shown on failure).</param>
    public static Verification Verify(ExperimentResult result, string directory, Tolerances tolerances, string approveHint)
    {
        SnapshotDocument received = SnapshotDocument.From(result);
        string receivedText = received.Render();
        directory = CpuModelSnapshots.DirectoryFor(directory, received.Experiment, received.Environment["device"], received.Environment["device_name"]);
        string verifiedPath = VerifiedPath(directory, received.Experiment);
        string receivedPath = ReceivedPath(directory, received.Experiment);

        if (!File.Exists(verifiedPath))
        {
            AtomicFile.WriteAllText(receivedPath, receivedText);
            return new Verification(false, verifiedPath, receivedPath, null,
                $"No approved snapshot for '{received.Experiment}' ({received.Profile}): {verifiedPath} does not exist.\n" +
                $"The run was written to {receivedPath}. Review it, then approve it with: {approveHint}");
        }

        string approvedText = File.ReadAllText(verifiedPath);
        SnapshotDocument approved = SnapshotDocument.Parse(approvedText, verifiedPath);
        SnapshotComparison comparison = SnapshotComparison.Compare(approved, received, tolerances);
        if (comparison.Matches)
        {
            // A stale received file from an earlier failure would only confuse the next approval.
            File.Delete(receivedPath);
            return new Verification(true, verifiedPath, receivedPath, comparison, $"{received.Experiment} ({received.Profile}): {comparison.Describe()}.");
        }

        AtomicFile.WriteAllText(receivedPath, receivedText);
        var message = new StringBuilder();
        message.Append(received.Experiment).Append(" (").Append(received.Profile).Append(") does not match its approved snapshot; ")
            .Append(comparison.Describe()).Append(".\n");
        foreach (string difference in comparison.Lines)
        {
            message.Append("  - ").Append(difference).Append('\n');
        }

        message.Append('\n').Append(UnifiedDiff(approvedText, receivedText, verifiedPath, receivedPath));
        message.Append("\nIf the change is intended, approve it with: ").Append(approveHint).Append('\n');
        message.Append("and explain in the commit message why the numbers moved.");
        if (comparison.Mode == ComparisonMode.PortableElsewhere && CpuModelSnapshots.Key(received.Environment["device_name"]) is { } key)
        {
            message.Append("\nIf this CPU model is known to give other bits for this experiment, approve a snapshot for it alone with ")
                .Append("`accept --cpu-model` (written to ").Append(Path.Combine(CpuModelSnapshots.FolderName, key)).Append(") and say why in the commit message.");
        }

        return new Verification(false, verifiedPath, receivedPath, comparison, message.ToString());
    }

    /// <summary>
    /// Verifies a multi-seed result (NAME.seeds.verified.txt): seed by seed, exactly, when the environment matches the
    /// approved one, else as distributions under <paramref name="checks"/>.
    /// </summary>
    public static Verification VerifySeeds(SeedSnapshot received, string directory, IReadOnlyList<SeedCheck> checks, string approveHint)
    {
        string receivedText = received.Render();
        string stem = SeedSnapshot.Stem(received.Experiment);
        string verifiedPath = VerifiedPath(directory, stem);
        string receivedPath = ReceivedPath(directory, stem);
        string what = $"{received.Experiment} ({received.Profile}, {received.Seeds.Count} seeds)";
        if (!File.Exists(verifiedPath))
        {
            AtomicFile.WriteAllText(receivedPath, receivedText);
            return new Verification(false, verifiedPath, receivedPath, null,
                $"No approved multi-seed snapshot for {what}: {verifiedPath} does not exist.\n" +
                $"The run was written to {receivedPath}. Review it, then approve it with: {approveHint}");
        }

        string approvedText = File.ReadAllText(verifiedPath);
        SnapshotComparison comparison = SeedSnapshotComparison.Compare(SeedSnapshot.Parse(approvedText, verifiedPath), received, checks);
        string table = comparison.Checks.Count > 0 ? "\n" + SeedSnapshotComparison.Table(comparison.Checks) : "";
        if (comparison.Matches)
        {
            File.Delete(receivedPath);
            return new Verification(true, verifiedPath, receivedPath, comparison, $"{what}: {comparison.Describe()}.{table}");
        }

        AtomicFile.WriteAllText(receivedPath, receivedText);
        var message = new StringBuilder();
        message.Append(what).Append(" does not match its approved snapshot; ").Append(comparison.Describe()).Append(".\n");
        foreach (string difference in comparison.Lines)
        {
            message.Append("  - ").Append(difference).Append('\n');
        }

        message.Append(table).Append('\n').Append(UnifiedDiff(approvedText, receivedText, verifiedPath, receivedPath));
        message.Append("\nIf the change is intended, approve it with: ").Append(approveHint).Append('\n');
        message.Append("and explain in the commit message why the numbers moved.");
        return new Verification(false, verifiedPath, receivedPath, comparison, message.ToString());
    }

    /// <summary>A unified diff with two lines of context and hunk headers, as `git diff` shows it in a pull request (DiffPlex's renderer).</summary>
    public static string UnifiedDiff(string approved, string received, string approvedName, string receivedName) =>
        new UnidiffRenderer(contextLines: 2).Generate(approved, received, approvedName, receivedName, ignoreWhitespace: false, ignoreCase: false);
}
