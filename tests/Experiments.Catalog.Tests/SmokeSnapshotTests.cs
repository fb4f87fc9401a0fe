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
        foreach (string path in Directory.GetFiles(Path.Combine(Catalog.SnapshotRoot, "smoke", "cpu"), "*" + SnapshotVerifier.VerifiedSuffix))
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
}
