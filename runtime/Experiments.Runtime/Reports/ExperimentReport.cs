using Experiments.Runtime.Training;
using System.Globalization;
using System.Text;

namespace Experiments.Runtime.Reports;

/// <summary>report.md of one result folder: figures, pictures and where the run came from, like a notebook's conclusion.</summary>
public static class ExperimentReport
{
    public static string Markdown(ExperimentResult result, IExperiment? experiment, IReadOnlyCollection<string> files)
    {
        RunIdentity id = result.Identity;
        var md = new StringBuilder();
        md.Append("# ").Append(id.Experiment).Append("\n\n");
        if (experiment is { Info.Description: { Length: > 0 } description })
        {
            md.Append(description).Append("\n\n");
        }

        md.Append("| | |\n|---|---|\n");
        Row(md, "test accuracy", Percent(result.Test.Accuracy));
        Row(md, "test loss", F(result.Test.Loss));
        Row(md, "train accuracy", Percent(result.Train.Accuracy));
        Row(md, "train loss", F(result.Train.Loss));
        Row(md, "parameters", result.Parameters.ToString("N0", CultureInfo.InvariantCulture));
        Row(md, "epochs", $"{result.History.Count} of {id.Run.Epochs}");
        Row(md, "training time", string.Create(CultureInfo.InvariantCulture, $"{result.History.Sum(e => e.Seconds):F1} s"));
        if (experiment?.Info.Reported is { } reported)
        {
            double points = (result.Test.Accuracy - reported.TestAccuracy) * 100;
            Row(md, "reported by its source", string.Create(CultureInfo.InvariantCulture,
                $"{Percent(reported.TestAccuracy)} ({reported.Source}{(reported.Completed ? "" : "; not a completed run")}); ours {points:+0.00;-0.00} points"));
        }

        (RunDefinition run, RunEnvironment where) = (id.Run, id.Environment);
        md.Append("\n**Run**: profile `").Append(run.Profile).Append("`, seed ").Append(run.Seed).Append(", ").Append(where.Device)
            .Append(" (").Append(where.DeviceName).Append("), ").Append(where.Threads).Append(" threads, ").Append(where.Backend)
            .Append(" backend, TorchSharp ").Append(where.TorchSharp).Append(", ").Append(where.LibTorch).Append(", fingerprint `").Append(run.Fingerprint).Append("`.\n");
        md.Append("**Data**: ").Append(run.Dataset).Append(", ").Append(run.TrainExamples).Append(" training, ")
            .Append(run.ValidationExamples).Append(" validation, ").Append(run.TestExamples).Append(" test examples. **Settings**: ").Append(run.Settings).Append(".\n");
        if (result.EarlyStopping is { } stopping)
        {
            md.Append("**Early stopping**: ").Append(stopping).Append(".\n");
        }

        md.Append('\n');

        Image(md, files, "accuracy.png", "Accuracy per epoch");
        Image(md, files, "loss.png", "Loss per epoch");
        bool rates = result.History.Any(e => e.LearningRate is not null);
        md.Append(rates
            ? "## History\n\n| epoch | loss | accuracy | val_loss | val_accuracy | learning_rate | seconds |\n|---:|---:|---:|---:|---:|---:|---:|\n"
            : "## History\n\n| epoch | loss | accuracy | val_loss | val_accuracy | seconds |\n|---:|---:|---:|---:|---:|---:|\n");
        foreach (EpochMetrics e in result.History)
        {
            string rate = rates ? $" {e.LearningRate?.ToString("G6", CultureInfo.InvariantCulture)} |" : "";
            md.Append(string.Create(CultureInfo.InvariantCulture,
                $"| {e.Epoch} | {e.Loss:F4} | {e.Accuracy:F4} | {(e.ValidationLoss is { } vl ? vl.ToString("F4", CultureInfo.InvariantCulture) : "")} | {(e.ValidationAccuracy is { } va ? va.ToString("F4", CultureInfo.InvariantCulture) : "")} |{rate} {e.Seconds:F1} |\n"));
        }

        md.Append('\n');
        Image(md, files, "confusion-test.png", "Confusion matrix, test set");
        Image(md, files, "misclassified.png", "Misclassified test images");
        Image(md, files, "samples.png", "Sample test images per class");
        md.Append("## Files\n\n");
        foreach (string file in files.Order(StringComparer.Ordinal))
        {
            md.Append("- [").Append(file).Append("](").Append(file).Append(")\n");
        }

        return md.ToString();
    }

    private static void Row(StringBuilder md, string name, string value) => md.Append("| ").Append(name).Append(" | ").Append(value).Append(" |\n");

    private static void Image(StringBuilder md, IReadOnlyCollection<string> files, string file, string title)
    {
        if (files.Contains(file))
        {
            md.Append("## ").Append(title).Append("\n\n![").Append(title).Append("](").Append(file).Append(")\n\n");
        }
    }

    internal static string Percent(double fraction) => (fraction * 100).ToString("F2", CultureInfo.InvariantCulture) + "%";

    private static string F(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
}
