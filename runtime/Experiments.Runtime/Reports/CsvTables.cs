using Experiments.Runtime.Training;
using System.Globalization;
using CsvHelper;

namespace Experiments.Runtime.Reports;

/// <summary>history.csv and confusion-*.csv: the numbers in a form spreadsheets and pandas read directly.</summary>
public static class CsvTables
{
    /// <summary>The history; a learning_rate column where a schedule or plateau moves the rate.</summary>
    public static string History(ExperimentResult result)
    {
        bool rates = result.History.Any(e => e.LearningRate is not null);
        return Write(
            ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", .. rates ? new[] { "learning_rate" } : [], "seconds"],
            result.History.Select(e => (string[])
            [
                e.Epoch.ToString(CultureInfo.InvariantCulture), Number(e.Loss), Number(e.Accuracy),
                e.ValidationLoss is { } vl ? Number(vl) : "", e.ValidationAccuracy is { } va ? Number(va) : "",
                .. rates ? new[] { e.LearningRate is { } lr ? Number(lr) : "" } : [],
                Number(Math.Round(e.Seconds, 3)),
            ]));
    }

    /// <summary>Rows are true classes, columns predicted classes; the first column names the true class.</summary>
    public static string Confusion(ConfusionMatrix matrix) => Write(
        ["true \\ predicted", .. matrix.ClassNames],
        matrix.ClassNames.Select((name, t) => new[] { name }.Concat(matrix.Rows[t].Select(c => c.ToString(CultureInfo.InvariantCulture))).ToArray()));

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Write(string[] header, IEnumerable<string[]> rows)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (CsvWriter csv = CsvWriter.Create(text, new CsvWriterOptions { NewLine = "\n" }, true))
        {
            csv.WriteRecord(header);
            foreach (string[] row in rows)
            {
                csv.WriteRecord(row);
            }
        }

        return text.ToString();
    }
}
