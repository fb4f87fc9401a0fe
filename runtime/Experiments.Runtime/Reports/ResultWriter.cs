using Experiments.Runtime.Data;
using Experiments.Runtime.Results;
using Experiments.Runtime.Snapshots;
using Experiments.Runtime.Training;

namespace Experiments.Runtime.Reports;

/// <summary>
/// Writes a result folder all at once: files go to a temporary sibling folder that is renamed into place, so a folder
/// that exists is complete.
/// </summary>
public static class ResultWriter
{
    /// <param name="experiment">Adds the description and the source's reported accuracy to report.md.</param>
    /// <param name="configuration">The resolved configuration (YAML) the run used, stored as config.yaml.</param>
    /// <param name="testImages">The test examples of the run, for the galleries (misclassified.png, samples.png); none without them.</param>
    /// <param name="folder">The result folder's name under <paramref name="outputRoot"/>; default the experiment's name (seed k of a multi-seed run: seed-k).</param>
    public static string Write(ExperimentResult result, string outputRoot, IExperiment? experiment = null, string? configuration = null, ImageSet? testImages = null, string? folder = null)
    {
        Directory.CreateDirectory(outputRoot);
        string name = folder ?? result.Identity.Experiment;
        string target = Path.Combine(outputRoot, name);
        string staging = Path.Combine(outputRoot, $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(staging);
        try
        {
            var files = new List<string>();
            void Text(string name, string text)
            {
                File.WriteAllText(Path.Combine(staging, name), text);
                files.Add(name);
            }

            void Picture(string name, Action<string> draw)
            {
                draw(Path.Combine(staging, name));
                files.Add(name);
            }

            Text("metrics.json", MetricsJson.Metrics(result));
            Text("timing.json", MetricsJson.Timing(result));
            Text("misclassified.json", MetricsJson.Misclassified(result));
            Text("snapshot.txt", SnapshotDocument.From(result).Render());
            Text("history.csv", CsvTables.History(result));
            Text("confusion-test.csv", CsvTables.Confusion(result.TestConfusion));
            Text("confusion-train.csv", CsvTables.Confusion(result.TrainConfusion));
            if (configuration is not null)
            {
                Text("config.yaml", configuration);
            }

            if (result.ModelWeights is { } weights)
            {
                File.WriteAllBytes(Path.Combine(staging, TrainedWeights.FileName), weights);
                files.Add(TrainedWeights.FileName);
            }

            Picture("accuracy.png", path => Plots.Curve(result, "accuracy", path));
            Picture("loss.png", path => Plots.Curve(result, "loss", path));
            Picture("confusion-test.png", path => Plots.Confusion(result.TestConfusion, $"{result.Identity.Experiment}: test set ({result.Test.Count} images)", path));
            if (testImages is ImageSet { IsTable: false } images)
            {
                Picture("misclassified.png", path => Gallery.Misclassified(result, images, path));
                Picture("samples.png", path => Gallery.Samples(images, result.TestConfusion.ClassNames, $"{result.Identity.Run.Dataset}: first test images of each class", path));
            }

            files.Add("report.md");
            File.WriteAllText(Path.Combine(staging, "report.md"), ExperimentReport.Markdown(result, experiment, files));
            if (Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
            }

            Directory.Move(staging, target);
        }
        catch (ArgumentOutOfRangeException e)
        {
            // A file-size limit (EFBIG) surfaces as this rather than an IOException; to the user it is a full disk.
            throw new IOException($"{target}: {e.Message}", e);
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }

        return target;
    }
}
