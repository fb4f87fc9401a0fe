using Experiments.Runtime;
using Experiments.Runtime.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace Experiments.Catalog.Tests;

/// <summary>
/// Every registered experiment, trained for real and verified against its approved snapshot (in the full profile also
/// against the notebook's [Reported] accuracy). One test per experiment, found through the generated registry: a new
/// [Experiment] class is a new test without touching this file.
/// </summary>
public sealed class CatalogReproductionTests(ITestOutputHelper output)
{
    public static TheoryData<string> Experiments() => new(Catalog.Settings.Select(ExperimentRegistry.All).Select(e => e.Info.Name));

    [Theory]
    [MemberData(nameof(Experiments))]
    public void Reproduces_its_approved_snapshot(string name)
    {
        Reproduction reproduction = ReproductionTest.Run(ExperimentRegistry.All, name, Catalog.SnapshotRoot, output.WriteLine, Catalog.Settings);
        Assert.True(reproduction.Passed, reproduction.Message);
    }
}
