using System.Reflection;
using Experiments.Runtime.Hosting;

[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

namespace Experiments.Catalog.Tests;

/// <summary>The catalog's reproduction settings (see <see cref="ReproductionSettings"/> for the environment variables) and snapshot folder.</summary>
internal static class Catalog
{
    public static ReproductionSettings Settings { get; } = ReproductionSettings.FromEnvironment(typeof(ExperimentRegistry).Assembly);

    /// <summary>Approved snapshots live in the source tree, next to the tests, like Verify's *.verified.* files.</summary>
    public static string SnapshotRoot { get; } =
        typeof(Catalog).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "SnapshotRoot").Value!;
}
