using System.Reflection;
using Experiments.Runtime.Data;

[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

namespace Experiments.Runtime.Tests;

/// <summary>Paths and real data the tests share.</summary>
internal static class TestEnvironment
{
    public static string Metadata(string key) =>
        typeof(TestEnvironment).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    private static readonly Lazy<IReadOnlyList<string>> MnistFiles = new(() => new DatasetProvisioner().Provide(DatasetSpec.Mnist));

    /// <summary>The real MNIST IDX files, provisioned (and verified) the way users get them.</summary>
    public static IReadOnlyList<string> Mnist => MnistFiles.Value;

    public static string TempDirectory(string prefix) => Directory.CreateTempSubdirectory("experiments-test-" + prefix + "-").FullName;
}
