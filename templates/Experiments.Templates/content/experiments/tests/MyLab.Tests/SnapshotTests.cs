using System.Reflection;
using Experiments.Runtime.Hosting;
using Xunit;
using Xunit.Abstractions;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace MyLabNamespace.Tests;

/// <summary>
/// Every experiment of MyLab, trained for real and compared with its approved snapshot; a new experiment is a new test.
/// EXPERIMENTS_PROFILE (default smoke), EXPERIMENTS_DEVICE, EXPERIMENTS_THREADS and EXPERIMENTS_ONLY choose what runs.
/// </summary>
public sealed class SnapshotTests(ITestOutputHelper output)
{
    private static readonly ReproductionSettings Settings = ReproductionSettings.FromEnvironment(typeof(ExperimentRegistry).Assembly);

    private static readonly string SnapshotRoot =
        typeof(SnapshotTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "SnapshotRoot").Value!;

    public static TheoryData<string> Experiments() => new(Settings.Select(ExperimentRegistry.All).Select(e => e.Info.Name));

    [Theory]
    [MemberData(nameof(Experiments))]
    public void Reproduces_its_approved_snapshot(string name)
    {
        Reproduction reproduction = ReproductionTest.Run(ExperimentRegistry.All, name, SnapshotRoot, output.WriteLine, Settings);
        Assert.True(reproduction.Passed, reproduction.Message);
    }
}
