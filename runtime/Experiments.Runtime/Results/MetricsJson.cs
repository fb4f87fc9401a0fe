using Experiments.Runtime.Training;
using System.Text.Json.Nodes;

namespace Experiments.Runtime.Results;

/// <summary>
/// A result's JSON files. metrics.json holds only what is deterministic (so two runs can be compared byte for byte and
/// a snapshot diff shows real changes); wall-clock seconds go to timing.json. The files' layout is the records of
/// <see cref="MetricsDocument"/> and its neighbours, serialised by <see cref="ResultJsonContext"/>.
/// </summary>
public static class MetricsJson
{
    public static string Metrics(ExperimentResult result) => ResultJsonContext.Text(
        new MetricsDocument(
            Identity(result.Identity),
            result.Parameters,
            result.WeightsSha256,
            result.Diverged is { } d ? new DivergedDocument(d.Epoch, d.Batch, d.Loss.ToString("R", System.Globalization.CultureInfo.InvariantCulture)) : null,
            result.EarlyStopping is { } s ? new EarlyStoppingDocument(s.StoppedAfterEpoch, s.RestoredEpoch, s.Best) : null,
            Evaluation(result.Train),
            Evaluation(result.Test),
            result.History.Select(e => new EpochDocument(e.Epoch, e.Loss, e.Accuracy, e.ValidationLoss, e.ValidationAccuracy, e.LearningRate)).ToList(),
            new ConfusionDocument(result.TrainConfusion.Rows, result.TestConfusion.Rows),
            result.TestConfusion.ClassNames),
        ResultJsonContext.Default.MetricsDocument);

    public static string Timing(ExperimentResult result) => ResultJsonContext.Text(
        new TimingDocument(
            result.History.Select(e => new EpochSecondsDocument(e.Epoch, Math.Round(e.Seconds, 3))).ToList(),
            Math.Round(result.History.Sum(e => e.Seconds), 3)),
        ResultJsonContext.Default.TimingDocument);

    /// <summary>misclassified.json: per true class, the test indices the model gets wrong and what it predicts.</summary>
    public static string Misclassified(ExperimentResult result)
    {
        IReadOnlyList<string> names = result.TestConfusion.ClassNames;
        var byClass = result.Misclassified.GroupBy(m => m.Actual).OrderBy(g => g.Key).ToDictionary(
            g => names[g.Key],
            g => g.OrderBy(m => m.Index).Select(m => new MisclassifiedDocument(m.Index, names[m.Predicted])).ToList());
        return ResultJsonContext.Text(byClass, ResultJsonContext.Default.DictionaryStringListMisclassifiedDocument);
    }

    /// <summary>The identity flat, as the snapshot's run and environment sections together, with JSON's numbers and booleans.</summary>
    private static JsonObject Identity(RunIdentity identity)
    {
        var json = new JsonObject { ["experiment"] = identity.Experiment };
        foreach (IdentityField field in identity.Run.Fields().Concat(identity.Environment.Fields()))
        {
            json[field.Key] = field.Value switch
            {
                bool flag => JsonValue.Create(flag),
                int or long => JsonValue.Create(Convert.ToInt64(field.Value, System.Globalization.CultureInfo.InvariantCulture)),
                _ => JsonValue.Create(field.Text),
            };
        }

        return json;
    }

    private static EvaluationDocument Evaluation(Evaluation evaluation) => new(evaluation.Accuracy, evaluation.Loss, evaluation.Count);
}
