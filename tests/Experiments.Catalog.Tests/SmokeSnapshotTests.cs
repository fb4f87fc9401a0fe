using Experiments.Runtime.Snapshots;
using Xunit;

namespace Experiments.Catalog.Tests;

/// <summary>What the approved smoke snapshots certify, read from the files a pull request changes.</summary>
public sealed class SmokeSnapshotTests
{
    /// <summary>
    /// Experiments whose smoke run stays near chance within any budget a test can spend (docs/reproducibility.md,
    /// "Smoke profiles that learned"): for them the smoke test checks only that the same model comes out bit for bit.
    /// </summary>
    private static readonly Dictionary<string, string> NearChance = new(StringComparer.Ordinal)
    {
        ["mnist-branches-3-adam"] = "Adam at lr 0.05: 11.3% after 10,000 examples",
        ["mnist-branches-4-mse"] = "mean squared error under SGD 0.05: 12.4% after 20,000 examples",
        ["mnist-branches-5-sigmoid"] = "sigmoid everywhere: 9.9% after 10,000 examples",
        ["mnist-lstm-50-sgd"] = "an LSTM under SGD 0.01: 28.3% after 60,000 example passes",
    };

    public static TheoryData<string> Names() => new(Catalog.Settings.Select(ExperimentRegistry.All).Select(e => e.Info.Name));

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_approved_smoke_snapshot_certifies_a_model_that_learned(string name)
    {
        string path = SnapshotVerifier.VerifiedPath(Path.Combine(Catalog.SnapshotRoot, "smoke", "cpu"), name);
        Assert.True(File.Exists(path), $"{path} is missing: approve the smoke snapshot of {name}.");
        SnapshotDocument snapshot = SnapshotDocument.Parse(File.ReadAllText(path), path);
        if (NearChance.TryGetValue(name, out string? why))
        {
            Assert.True(snapshot.TestAccuracy < 0.5, $"{name} now reaches {snapshot.TestAccuracy:P1} in its smoke run: take it off the near-chance list ({why}).");
            return;
        }

        Assert.True(snapshot.TestAccuracy >= 0.5,
            $"{name}'s approved smoke run reaches {snapshot.TestAccuracy:P1} test accuracy, below 50%: give it larger smoke sizes in experiments.yaml (experiments.{name}.profiles.smoke).");
    }

    [Fact]
    public void Every_approved_smoke_snapshot_was_made_under_the_portable_kernels()
    {
        foreach (string path in Directory.GetFiles(Path.Combine(Catalog.SnapshotRoot, "smoke", "cpu"), "*" + SnapshotVerifier.VerifiedSuffix, SearchOption.AllDirectories))
        {
            if (path.EndsWith(".seeds" + SnapshotVerifier.VerifiedSuffix, StringComparison.Ordinal))
            {
                continue;
            }

            SnapshotDocument snapshot = SnapshotDocument.Parse(File.ReadAllText(path), path);
            Assert.True(Experiments.Runtime.Native.KernelSet.PinnedIn(snapshot.Environment["device_name"])?.Name == Experiments.Runtime.Native.KernelSet.PortableName,
                $"{path} was approved under '{snapshot.Environment["device_name"]}': approve smoke snapshots from a plain `dotnet test`, which pins the portable kernel set.");
        }
    }

    /// <summary>A snapshot for one CPU model was made on that model, under the same declaration as the main snapshot beside it.</summary>
    [Fact]
    public void Every_cpu_model_snapshot_ran_on_its_model_and_has_a_main_snapshot()
    {
        string main = Path.Combine(Catalog.SnapshotRoot, "smoke", "cpu");
        string variants = Path.Combine(main, CpuModelSnapshots.FolderName);
        foreach (string path in Directory.Exists(variants) ? Directory.GetFiles(variants, "*" + SnapshotVerifier.VerifiedSuffix, SearchOption.AllDirectories) : [])
        {
            SnapshotDocument variant = SnapshotDocument.Parse(File.ReadAllText(path), path);
            string folder = Path.GetFileName(Path.GetDirectoryName(path)!);
            Assert.True(CpuModelSnapshots.Key(variant.Environment["device_name"]) == folder,
                $"{path} was approved on '{variant.Environment["device_name"]}', not on the CPU model {folder} its folder names.");
            string mainPath = SnapshotVerifier.VerifiedPath(main, variant.Experiment);
            Assert.True(File.Exists(mainPath), $"{path} has no main snapshot {mainPath}: a CPU model's snapshot only stands beside one.");
            SnapshotDocument approved = SnapshotDocument.Parse(File.ReadAllText(mainPath), mainPath);
            string[] moved = approved.Run.Keys.Union(variant.Run.Keys).Where(k => approved.Run.GetValueOrDefault(k) != variant.Run.GetValueOrDefault(k)).ToArray();
            Assert.True(moved.Length == 0,
                $"{path} ran another experiment than {mainPath} (run.{string.Join(", run.", moved)} differ): approve the snapshot for {folder} again on that CPU model.");
        }
    }
}
