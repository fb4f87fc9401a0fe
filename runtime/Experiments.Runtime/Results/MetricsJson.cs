using Experiments.Runtime.Training;
using System.Text;
using System.Text.Json;

namespace Experiments.Runtime.Results;

/// <summary>
/// Writes a result as stable, human-readable JSON. metrics.json holds only what is deterministic (so two runs
/// can be compared byte for byte and a snapshot diff shows real changes); wall-clock seconds go to timing.json.
/// </summary>
public static class MetricsJson
{
    private static readonly JsonWriterOptions Options = new() { Indented = true };

    public static string Metrics(ExperimentResult result)
    {
        return Write(writer =>
        {
            writer.WriteStartObject();
            WriteIdentity(writer, result.Identity);
            writer.WriteNumber("parameters", result.Parameters);
            writer.WriteString("weights_sha256", result.WeightsSha256);
            if (result.Diverged is { } diverged)
            {
                writer.WriteStartObject("diverged");
                writer.WriteNumber("epoch", diverged.Epoch);
                writer.WriteNumber("batch", diverged.Batch);
                writer.WriteString("loss", diverged.Loss.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
                writer.WriteEndObject();
            }

            if (result.EarlyStopping is { } stopping)
            {
                writer.WriteStartObject("early_stopping");
                WriteOptional(writer, "stopped_after_epoch", stopping.StoppedAfterEpoch);
                WriteOptional(writer, "restored_epoch", stopping.RestoredEpoch);
                WriteDouble(writer, "best", stopping.Best);
                writer.WriteEndObject();
            }

            WriteEvaluation(writer, "train", result.Train);
            WriteEvaluation(writer, "test", result.Test);
            writer.WriteStartArray("history");
            foreach (EpochMetrics epoch in result.History)
            {
                writer.WriteStartObject();
                writer.WriteNumber("epoch", epoch.Epoch);
                WriteDouble(writer, "loss", epoch.Loss);
                WriteDouble(writer, "accuracy", epoch.Accuracy);
                WriteOptional(writer, "val_loss", epoch.ValidationLoss);
                WriteOptional(writer, "val_accuracy", epoch.ValidationAccuracy);
                if (epoch.LearningRate is { } rate)
                {
                    WriteDouble(writer, "learning_rate", rate);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartObject("confusion");
            WriteMatrix(writer, "train", result.TrainConfusion);
            WriteMatrix(writer, "test", result.TestConfusion);
            writer.WriteEndObject();
            writer.WriteStartArray("class_names");
            foreach (string name in result.TestConfusion.ClassNames)
            {
                writer.WriteStringValue(name);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    public static string Timing(ExperimentResult result) => Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteStartArray("epochs");
        foreach (EpochMetrics epoch in result.History)
        {
            writer.WriteStartObject();
            writer.WriteNumber("epoch", epoch.Epoch);
            writer.WriteNumber("seconds", Math.Round(epoch.Seconds, 3));
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteNumber("total_seconds", Math.Round(result.History.Sum(e => e.Seconds), 3));
        writer.WriteEndObject();
    });

    /// <summary>misclassified.json: per true class, the test indices the model gets wrong and what it predicts.</summary>
    public static string Misclassified(ExperimentResult result) => Write(writer =>
    {
        writer.WriteStartObject();
        foreach (IGrouping<int, Misclassified> group in result.Misclassified.GroupBy(m => m.Actual).OrderBy(g => g.Key))
        {
            writer.WriteStartArray(result.TestConfusion.ClassNames[group.Key]);
            foreach (Misclassified m in group.OrderBy(m => m.Index))
            {
                writer.WriteStartObject();
                writer.WriteNumber("index", m.Index);
                writer.WriteString("predicted", result.TestConfusion.ClassNames[m.Predicted]);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    });

    /// <summary>The identity flat, as the snapshot's run and environment sections together, with JSON's numbers and booleans.</summary>
    private static void WriteIdentity(Utf8JsonWriter writer, RunIdentity identity)
    {
        writer.WriteStartObject("identity");
        writer.WriteString("experiment", identity.Experiment);
        foreach (IdentityField field in identity.Run.Fields().Concat(identity.Environment.Fields()))
        {
            switch (field.Value)
            {
                case bool flag:
                    writer.WriteBoolean(field.Key, flag);
                    break;
                case int or long:
                    writer.WriteNumber(field.Key, Convert.ToInt64(field.Value, System.Globalization.CultureInfo.InvariantCulture));
                    break;
                default:
                    writer.WriteString(field.Key, field.Text);
                    break;
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>JSON has no NaN or infinity: a diverged run writes them as the strings "NaN", "Infinity", "-Infinity".</summary>
    private static void WriteDouble(Utf8JsonWriter writer, string name, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumber(name, value);
        }
        else
        {
            writer.WriteString(name, value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private static void WriteEvaluation(Utf8JsonWriter writer, string name, Evaluation evaluation)
    {
        writer.WriteStartObject(name);
        WriteDouble(writer, "accuracy", evaluation.Accuracy);
        WriteDouble(writer, "loss", evaluation.Loss);
        writer.WriteNumber("examples", evaluation.Count);
        writer.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } v)
        {
            WriteDouble(writer, name, v);
        }
    }

    private static void WriteMatrix(Utf8JsonWriter writer, string name, ConfusionMatrix matrix)
    {
        writer.WriteStartArray(name);
        foreach (IReadOnlyList<int> row in matrix.Rows)
        {
            // One row per line keeps the matrix readable in a diff; the writer would otherwise put every number on its own line.
            writer.WriteRawValue("\n      [" + string.Join(", ", row.Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(4))) + "]");
        }

        writer.WriteEndArray();
    }

    private static string Write(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Options))
        {
            body(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
