using Experiments.Runtime.IO;

namespace Experiments.Runtime.Snapshots;

/// <summary>The outcome of approving one received snapshot.</summary>
public sealed record Approval(string ReceivedPath, string VerifiedPath, bool Approved, string Message);

/// <summary>
/// Turns <c>*.received.txt</c> into <c>*.verified.txt</c>, but only for a run that repeats bit for bit: the experiment is
/// run again in a separate process and its snapshot text must equal the received one before anything is approved.
/// </summary>
public static class SnapshotApproval
{
    private static readonly HashSet<string> SkippedFolders = new(StringComparer.Ordinal) { "bin", "obj", ".git", "node_modules" };

    /// <summary>The received snapshots under the given files or folders (folders are searched recursively, build output skipped).</summary>
    public static IReadOnlyList<string> FindReceived(IEnumerable<string> roots)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string root in roots)
        {
            if (File.Exists(root))
            {
                found.Add(Path.GetFullPath(root));
            }
            else if (Directory.Exists(root))
            {
                Search(new DirectoryInfo(root), found);
            }
            else
            {
                throw new FileNotFoundException($"'{root}' is neither a received snapshot nor a folder.", root);
            }
        }

        return [.. found];
    }

    /// <param name="repeat">Runs the snapshot's experiment again in a separate process and returns its snapshot text.</param>
    /// <param name="envelope">After a bit-identical repeat: the experiment under other CPU kernel sets, stored in the approved snapshot (null: none).</param>
    /// <param name="cpuModel">Approve it for its CPU model alone (<see cref="CpuModelSnapshots"/>), beside the main snapshot.</param>
    public static Approval Approve(string receivedPath, Func<SnapshotDocument, string> repeat, Func<SnapshotDocument, KernelEnvelope?>? envelope = null, bool cpuModel = false)
    {
        if (!receivedPath.EndsWith(SnapshotVerifier.ReceivedSuffix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{receivedPath}' is not a received snapshot (*{SnapshotVerifier.ReceivedSuffix}).", nameof(receivedPath));
        }

        string verifiedPath = receivedPath[..^SnapshotVerifier.ReceivedSuffix.Length] + SnapshotVerifier.VerifiedSuffix;
        string receivedText = File.ReadAllText(receivedPath);
        SnapshotDocument received = SnapshotDocument.Parse(receivedText, receivedPath);
        if (cpuModel && !CpuModelSnapshots.IsVariant(receivedPath))
        {
            string key = (received.Environment["device"] == "cpu" ? CpuModelSnapshots.Key(received.Environment["device_name"]) : null)
                ?? throw new ArgumentException($"{receivedPath}: --cpu-model needs a CPU run whose identity names its family and model; this one ran on '{received.Environment["device_name"]}'.");
            verifiedPath = Path.Combine(CpuModelSnapshots.Folder(Path.GetDirectoryName(Path.GetFullPath(receivedPath))!, key), Path.GetFileName(verifiedPath));
        }

        return Approve(received, receivedText, receivedPath, verifiedPath, repeat, envelope, kernels => Spread(kernels, received));
    }

    /// <summary>
    /// Approves a multi-seed snapshot (NAME.seeds.received.txt) the same way: every seed is run again in a separate
    /// process and the repeated multi-seed text must equal the received one.
    /// </summary>
    /// <param name="envelope">After the repeat: the first seed under other CPU kernel sets (null: none).</param>
    public static Approval ApproveSeeds(string receivedPath, Func<SeedSnapshot, string> repeat, Func<SeedSnapshot, KernelEnvelope?>? envelope = null)
    {
        if (!SeedSnapshot.IsSeedSnapshotPath(receivedPath) || !receivedPath.EndsWith(SnapshotVerifier.ReceivedSuffix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{receivedPath}' is not a received multi-seed snapshot (*{SeedSnapshot.Infix}{SnapshotVerifier.ReceivedSuffix}).", nameof(receivedPath));
        }

        string verifiedPath = receivedPath[..^SnapshotVerifier.ReceivedSuffix.Length] + SnapshotVerifier.VerifiedSuffix;
        string receivedText = File.ReadAllText(receivedPath);
        SeedSnapshot received = SeedSnapshot.Parse(receivedText, receivedPath);
        return Approve(received, receivedText, receivedPath, verifiedPath, repeat, envelope, kernels =>
            string.Join("; ", SeedSnapshot.FinalMetrics.Select(m => (m, kernels.Range(m, received.Seeds[0][m])))
                .Select(x => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{SeedSnapshotComparison.Key(x.m)} spread {x.Item2.High - x.Item2.Low:G3}")))
            + $" over {kernels.Runs.Count} kernel sets (seed {received.Seeds[0].Seed}).");
    }

    /// <summary>
    /// The approval itself, the same for one seed and several: the repeat's text must equal the received text byte for
    /// byte; then the kernel spread (if asked) is added and the verified file replaces the received one atomically.
    /// </summary>
    private static Approval Approve<T>(
        T received, string receivedText, string receivedPath, string verifiedPath, Func<T, string> repeat, Func<T, KernelEnvelope?>? envelope, Func<KernelEnvelope, string> spread)
        where T : IResultSnapshot<T>
    {
        string repeatedText = repeat(received);
        if (!string.Equals(receivedText, repeatedText, StringComparison.Ordinal))
        {
            IReadOnlyList<string> fields = T.CompareExactly(received, T.Parse(repeatedText, "repeated run")).Lines;
            return new Approval(receivedPath, verifiedPath, false,
                $"Not approved: repeating {received.Subject} in a separate process gave a different result, so the run is " +
                "not deterministic and its snapshot would not hold. The received file is left in place.\n" +
                (fields.Count > 0 ? "Fields that differ:\n  - " + string.Join("\n  - ", fields) + "\n" : "") +
                SnapshotVerifier.UnifiedDiff(receivedText, repeatedText, receivedPath, "repeated run"));
        }

        KernelEnvelope? kernels = envelope?.Invoke(received);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(verifiedPath))!);
        AtomicFile.WriteAllText(verifiedPath, kernels is null ? receivedText : received.WithKernels(kernels).Render());
        File.Delete(receivedPath);
        return new Approval(receivedPath, verifiedPath, true,
            $"Approved {verifiedPath}: a repeat of {received.Subject} in a separate process was identical." + (kernels is null ? "" : "\n" + spread(kernels)));
    }

    /// <summary>The kernel envelope in two lines: how far test accuracy and the confusion cells moved across the sets.</summary>
    public static string Spread(KernelEnvelope kernels, SnapshotDocument approved)
    {
        (double low, double high) = kernels.Range(Metric.TestAccuracy, approved.TestAccuracy);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Kernel envelope over {kernels.Runs.Count} sets ({string.Join(", ", kernels.Runs.Select(r => r.Set))}): test accuracy {low:0.####} to {high:0.####} " +
            $"(spread {(high - low) * 100:0.##} points), at most {kernels.CellsMoved(test: true) * 100:0.##}% of test and {kernels.CellsMoved(test: false) * 100:0.##}% of train examples changed cell.");
    }

    private static void Search(DirectoryInfo folder, SortedSet<string> found)
    {
        foreach (FileInfo file in folder.EnumerateFiles("*" + SnapshotVerifier.ReceivedSuffix))
        {
            found.Add(file.FullName);
        }

        foreach (DirectoryInfo child in folder.EnumerateDirectories().Where(d => !SkippedFolders.Contains(d.Name)))
        {
            Search(child, found);
        }
    }
}
