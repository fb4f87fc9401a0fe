using System.Reflection;
using Experiments.Runtime.Configuration;
using Experiments.Runtime.Hosting;
using Experiments.Runtime.Training;

[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

namespace Experiments.Catalog.Tests;

/// <summary>
/// What `dotnet test` reproduces, from environment variables (all optional):
/// EXPERIMENTS_PROFILE smoke (default) or full; EXPERIMENTS_DEVICE cpu (default), cuda, cuda:N or auto; EXPERIMENTS_THREADS (default 2,
/// the CI machine's cores: thread count is part of a result's identity); EXPERIMENTS_ONLY comma-separated names or globs.
/// </summary>
internal sealed record ReproductionSettings(ProfileConfig Profile, string Device, int Threads, string[] Only, ExperimentsConfig Configuration)
{
    public static ReproductionSettings Current { get; } = FromEnvironment();

    /// <summary>Approved snapshots per profile and device kind: Snapshots/smoke/cpu, Snapshots/full/cuda, ...</summary>
    public string SnapshotDirectory => Path.Combine(Metadata("SnapshotRoot"), Profile.Name, Device.StartsWith("cuda", StringComparison.Ordinal) ? "cuda" : "cpu");

    /// <summary>The command that approves received snapshots, shown when one does not match.</summary>
    public static string ApproveCommand =>
        $"dotnet run --project experiments/Experiments.Catalog -- accept tests/Experiments.Catalog.Tests/Snapshots   (in {Metadata("RepositoryRoot")})";

    /// <summary>The same resolution as `run --profile P --threads T --device D` (and so as `accept`'s repeat): profile and overrides from experiments.yaml.</summary>
    public RunOptions RunOptions(string experiment) => Configuration.RunOptions(experiment, Profile, Device, Threads);

    private static ReproductionSettings FromEnvironment()
    {
        string profile = Environment.GetEnvironmentVariable("EXPERIMENTS_PROFILE") is { Length: > 0 } p ? p : Experiments.Runtime.Hosting.Profile.Smoke.Name;
        string device = Experiments.Runtime.Native.TorchRuntime.Resolve(Environment.GetEnvironmentVariable("EXPERIMENTS_DEVICE") is { Length: > 0 } d ? d : "cpu").ToString();
        string threadsText = Environment.GetEnvironmentVariable("EXPERIMENTS_THREADS") is { Length: > 0 } t ? t : "2";
        if (!int.TryParse(threadsText, out int threads) || threads < 1)
        {
            throw new InvalidOperationException($"EXPERIMENTS_THREADS is '{threadsText}': use a whole number of at least 1.");
        }

        string[] only = (Environment.GetEnvironmentVariable("EXPERIMENTS_ONLY") ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // The catalog's experiments.yaml, found the way the command line finds it.
        ExperimentsConfig configuration = ExperimentsConfig.Load(ExperimentsConfig.Discover(Metadata("CatalogProject")), []);
        return new ReproductionSettings(configuration.Profile(profile), device, threads, only, configuration);
    }

    private static string Metadata(string key) =>
        typeof(ReproductionSettings).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
