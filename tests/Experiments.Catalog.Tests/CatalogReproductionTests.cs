using System.Globalization;
using System.Reflection;
using Experiments.Runtime;
using Experiments.Runtime.Hosting;
using Experiments.Runtime.Results;
using Experiments.Runtime.Snapshots;
using Experiments.Runtime.Training;
using Xunit;
using Xunit.Abstractions;

namespace Experiments.Catalog.Tests;

/// <summary>
/// Every registered experiment, trained for real and verified against its approved snapshot. One test per experiment,
/// found through the generated registry: a new [Experiment] class is a new test without touching this file.
/// </summary>
public sealed class CatalogReproductionTests(ITestOutputHelper output)
{
    public static TheoryData<string> Experiments()
    {
        string[] only = ReproductionSettings.Current.Only;
        IEnumerable<IExperiment> chosen = only.Length == 0 ? ExperimentRegistry.All : ExperimentSelector.Select(ExperimentRegistry.All, only);
        return new TheoryData<string>(chosen.Select(e => e.Info.Name));
    }

    [Theory]
    [MemberData(nameof(Experiments))]
    public void Reproduces_its_approved_snapshot(string name)
    {
        ReproductionSettings settings = ReproductionSettings.Current;
        IExperiment experiment = ExperimentRegistry.All.Single(e => e.Info.Name == name);
        output.WriteLine($"{name}: profile {settings.Profile.Name}, {settings.Device}, {settings.Threads} threads");

        ExperimentResult result = ExperimentRunner.Run(
            experiment, settings.RunOptions(name), epoch => output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  epoch {epoch.Epoch}: loss {epoch.Loss:F4}, accuracy {epoch.Accuracy:F4} ({epoch.Seconds:F1} s)")), output.WriteLine);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  test accuracy {result.Test.Accuracy:P2}, {result.History.Sum(e => e.Seconds):F1} s of training"));

        Verification verification = SnapshotVerifier.Verify(result, settings.SnapshotDirectory, Tolerances.For(experiment).With(settings.Configuration.For(name)?.Tolerances ?? new Dictionary<Metric, double>()), ReproductionSettings.ApproveCommand);
        output.WriteLine(verification.Message);
        string? notReproduced = settings.Profile.Name == Profile.Full.Name ? CompareWithReported(experiment, result) : null;
        Assert.True(verification.Passed, verification.Message + (notReproduced is null ? "" : "\n" + notReproduced));
        Assert.True(notReproduced is null, notReproduced);
    }

    /// <summary>
    /// The notebook's figure is one run of Keras, ours one run of ours: lower by more than the declared margin is a failure
    /// to reproduce. Figures not known to come from a finished run with these settings are shown, not enforced.
    /// </summary>
    private string? CompareWithReported(IExperiment experiment, ExperimentResult result)
    {
        if (experiment.GetType().GetCustomAttribute<ReportedAttribute>() is not { } reported)
        {
            output.WriteLine("no reported accuracy to compare with");
            return null;
        }

        string line = string.Create(CultureInfo.InvariantCulture,
            $"notebook {reported.TestAccuracy:P2} ({reported.Source}{(reported.Completed ? "" : ", not a completed run: not enforced")}), ours {result.Test.Accuracy:P2}, allowed margin {reported.Margin:P1}");
        output.WriteLine(line);
        return reported.Completed && result.Test.Accuracy < reported.TestAccuracy - reported.Margin
            ? $"{experiment.Info.Name} does not reproduce its notebook: {line}"
            : null;
    }
}
