using System.Globalization;
using System.Reflection;
using Experiments.Runtime.Configuration;
using Experiments.Runtime.Snapshots;
using Experiments.Runtime.Training;

namespace Experiments.Runtime.Hosting;

/// <summary>
/// What `dotnet test` reproduces, from environment variables (all optional): EXPERIMENTS_PROFILE smoke (default) or
/// any profile of experiments.yaml; EXPERIMENTS_DEVICE cpu (default), cuda, cuda:N or auto; EXPERIMENTS_THREADS
/// (default 2: thread count is part of a result's identity); EXPERIMENTS_ONLY comma-separated names or globs;
/// EXPERIMENTS_KERNELS a CPU kernel set to pin (see `run --pin-kernels`; default portable for the smoke profile on the
/// CPU, native otherwise); EXPERIMENTS_SEEDS N runs seeds 1..N of every
/// experiment and verifies NAME.seeds.verified.txt (default: the profile's seeds:, else the declaration's Seeds; 1 runs
/// the declared seed and verifies NAME.verified.txt).
/// Profiles and per-experiment overrides resolve through the experiments project's experiments.yaml exactly as
/// `run --profile P --threads T --device D` and `accept`'s repeat resolve them.
/// </summary>
public sealed record ReproductionSettings(ProfileConfig Profile, string Device, int Threads, string[] Only, ExperimentsConfig Configuration, string? ProjectDirectory)
{
    /// <summary>EXPERIMENTS_SEEDS: how many seeds every experiment runs; null: the profile's seeds:, else the declaration's.</summary>
    public int? Seeds { get; init; }

    /// <summary>Settings for the experiments of <paramref name="experimentsAssembly"/> (its build records its project folder).</summary>
    public static ReproductionSettings FromEnvironment(Assembly experimentsAssembly)
    {
        string profile = Environment.GetEnvironmentVariable("EXPERIMENTS_PROFILE") is { Length: > 0 } p ? p : global::Experiments.Runtime.Configuration.Profile.Smoke.Name;
        string deviceName = Environment.GetEnvironmentVariable("EXPERIMENTS_DEVICE") is { Length: > 0 } d ? d : "cpu";

        // The CPU kernels for the whole test process, pinned before LibTorch loads: EXPERIMENTS_KERNELS names a set
        // (native: what this CPU picks); by default the smoke profile on the CPU runs the portable set, whose bits
        // travel between CPU models, so a snapshot approved on one machine is reproduced on another.
        string? kernels = Environment.GetEnvironmentVariable("EXPERIMENTS_KERNELS") is { Length: > 0 } k ? k
            : DefaultKernels(profile, deviceName);
        if (kernels is not null)
        {
            Native.KernelSet.Find(kernels).Pin();
        }

        string device = Native.TorchRuntime.Resolve(deviceName).ToString();
        string threadsText = Environment.GetEnvironmentVariable("EXPERIMENTS_THREADS") is { Length: > 0 } t ? t : "2";
        if (!int.TryParse(threadsText, NumberStyles.None, CultureInfo.InvariantCulture, out int threads) || threads < 1)
        {
            throw new ConfigException($"EXPERIMENTS_THREADS is '{threadsText}': use a whole number of at least 1.");
        }

        string[] only = (Environment.GetEnvironmentVariable("EXPERIMENTS_ONLY") ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string? project = experimentsAssembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "ExperimentsProjectDirectory")?.Value;
        string? seedsText = Environment.GetEnvironmentVariable("EXPERIMENTS_SEEDS") is { Length: > 0 } n ? n : null;
        int? seeds = null;
        if (seedsText is not null)
        {
            seeds = int.TryParse(seedsText, NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count >= 1
                ? count
                : throw new ConfigException($"EXPERIMENTS_SEEDS is '{seedsText}': use a whole number of at least 1.");
        }

        ExperimentsConfig configuration = ExperimentsConfig.Load(ExperimentsConfig.Discover(project), []);
        return new ReproductionSettings(configuration.Profile(profile), device, threads, only, configuration, project) { Seeds = seeds };
    }

    /// <summary>The kernel set `dotnet test` pins when EXPERIMENTS_KERNELS is not set: portable for the smoke profile on the CPU.</summary>
    public static string? DefaultKernels(string profile, string device) =>
        profile == global::Experiments.Runtime.Configuration.Profile.Smoke.Name && Native.DeviceRequest.Parse(device).Kind == Native.DeviceKind.Cpu
            ? Native.KernelSet.PortableName
            : null;

    /// <summary>The experiments <c>dotnet test</c> runs: all of them, or those EXPERIMENTS_ONLY names.</summary>
    public IEnumerable<IExperiment> Select(IReadOnlyList<IExperiment> registry) => Only.Length == 0 ? registry : ExperimentSelector.Select(registry, Only);

    /// <summary>Approved snapshots per profile and device kind: ROOT/smoke/cpu, ROOT/full/cuda, ...</summary>
    public string SnapshotDirectory(string snapshotRoot) =>
        Path.Combine(snapshotRoot, Profile.Name, Device.StartsWith("cuda", StringComparison.Ordinal) ? "cuda" : "cpu");

    /// <summary>The command that approves received snapshots, shown when one does not match.</summary>
    public string ApproveCommand(string snapshotRoot) =>
        $"dotnet run --project {ProjectDirectory ?? "<your experiments project>"} -- accept {snapshotRoot}";

    public RunOptions RunOptions(string experiment, long? seed = null) => Configuration.RunOptions(experiment, Profile, Device, Threads, seed);

    /// <summary>How many seeds <paramref name="experiment"/> runs: EXPERIMENTS_SEEDS, else the profile's seeds:, else the declaration's.</summary>
    public int SeedsFor(IExperiment experiment) => Seeds ?? Profile.Seeds ?? experiment.Info.Seeds;
}

/// <summary>A trained result and its verification against the approved snapshot.</summary>
/// <param name="Result">The run (with several seeds, the first seed's).</param>
public sealed record Reproduction(IExperiment Experiment, ExperimentResult Result, Verification Verification)
{
    /// <summary>Every seed's result when several seeds ran; else just <see cref="Result"/>.</summary>
    public IReadOnlyList<ExperimentResult> Seeds { get; init; } = [];

    /// <summary>The full-profile result against the source's [Reported] figure; null for other profiles or without one.</summary>
    public ReportedComparison? Reported { get; init; }

    public bool Passed => Verification.Passed && Reported?.Fails != true;

    public string Message => Verification.Message + (Reported is { Fails: true } reported ? "\n" + reported.Failure(Experiment.Info.Name) : "");
}

/// <summary>
/// A full-profile test accuracy against the figure the experiment's source reported ([Reported]). The source's figure is
/// one run of Keras, ours one run of ours: lower by more than the declared margin is a failure to reproduce. A figure
/// not known to come from a finished run with these settings is shown, not enforced.
/// </summary>
public sealed record ReportedComparison(ReportedAttribute Reported, double Accuracy)
{
    public bool Fails => Reported.Completed && Accuracy < Reported.TestAccuracy - Reported.Margin;

    public string Line => string.Create(CultureInfo.InvariantCulture,
        $"source {Reports.ExperimentReport.Percent(Reported.TestAccuracy)} ({Reported.Source}{(Reported.Completed ? "" : ", not a completed run: not enforced")}), ours {Reports.ExperimentReport.Percent(Accuracy)}, allowed margin {Reported.Margin * 100:0.0#} points");

    public string Failure(string experiment) => $"{experiment} does not reproduce its source: {Line}";
}

/// <summary>
/// One experiment trained for real and verified against its approved snapshot (and, in the full profile, against its
/// source's [Reported] figure), as a test project runs it:
/// <code>
/// [Theory, MemberData(nameof(Names))]
/// public void Reproduces_its_approved_snapshot(string name)
/// {
///     Reproduction reproduction = ReproductionTest.Run(ExperimentRegistry.All, name, SnapshotRoot, output.WriteLine);
///     Assert.True(reproduction.Passed, reproduction.Message);
/// }
/// </code>
/// </summary>
public static class ReproductionTest
{
    /// <summary>Trains <paramref name="name"/> with the environment's settings and verifies it (writing NAME.received.txt on a mismatch).</summary>
    public static Reproduction Run(IReadOnlyList<IExperiment> registry, string name, string snapshotRoot, Action<string> log, ReproductionSettings? settings = null)
    {
        IExperiment experiment = registry.SingleOrDefault(e => e.Info.Name == name)
            ?? throw new ArgumentException($"No registered experiment is named '{name}'.", nameof(name));
        settings ??= ReproductionSettings.FromEnvironment(experiment.GetType().Assembly);
        int seeds = settings.SeedsFor(experiment);
        log($"{name}: profile {settings.Profile.Name}, {settings.Device}, {settings.Threads} threads" + (seeds > 1 ? $", seeds 1 to {seeds}" : ""));
        string directory = settings.SnapshotDirectory(snapshotRoot);
        Directory.CreateDirectory(directory);
        if (seeds > 1)
        {
            // Each seed exactly as `run NAME --seed K` trains it; one multi-seed snapshot of them all.
            List<ExperimentResult> results = Enumerable.Range(1, seeds).Select(k => Train(experiment, settings.RunOptions(name, k), log, $"seed {k}: ")).ToList();
            SeedSnapshot received = SeedSnapshot.From(results.Select(SnapshotDocument.From).ToList());
            Verification seedVerification = SnapshotVerifier.VerifySeeds(received, directory, SeedCheck.For(experiment), settings.ApproveCommand(snapshotRoot));
            log(seedVerification.Message);
            return new Reproduction(experiment, results[0], seedVerification) { Seeds = results, Reported = CompareWithReported(experiment, results[0], settings, log) };
        }

        ExperimentResult result = Train(experiment, settings.RunOptions(name), log, "");
        Tolerances tolerances = Tolerances.For(experiment).With(settings.Configuration.For(name)?.Tolerances ?? new Dictionary<Metric, double>());
        Verification verification = SnapshotVerifier.Verify(result, directory, tolerances, settings.ApproveCommand(snapshotRoot));
        log(verification.Message);
        return new Reproduction(experiment, result, verification) { Reported = CompareWithReported(experiment, result, settings, log) };
    }

    private static ReportedComparison? CompareWithReported(IExperiment experiment, ExperimentResult result, ReproductionSettings settings, Action<string> log)
    {
        if (settings.Profile.Name != global::Experiments.Runtime.Configuration.Profile.Full.Name)
        {
            return null;
        }

        if (experiment.Info.Reported is not { } reported)
        {
            log("no reported accuracy to compare with");
            return null;
        }

        var comparison = new ReportedComparison(reported, result.Test.Accuracy);
        log(comparison.Line);
        return comparison;
    }

    private static ExperimentResult Train(IExperiment experiment, RunOptions options, Action<string> log, string prefix)
    {
        ExperimentResult result = ExperimentRunner.Run(
            experiment,
            options,
            epoch => log(string.Create(CultureInfo.InvariantCulture, $"  {prefix}epoch {epoch.Epoch}: loss {epoch.Loss:F4}, accuracy {epoch.Accuracy:F4} ({epoch.Seconds:F1} s)")),
            log);
        log(string.Create(CultureInfo.InvariantCulture, $"  {prefix}test accuracy {result.Test.Accuracy:P2}, {result.History.Sum(e => e.Seconds):F1} s of training"));
        return result;
    }
}
