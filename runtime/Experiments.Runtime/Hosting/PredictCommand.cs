using System.CommandLine;
using System.Globalization;
using Experiments.Runtime.Results;

namespace Experiments.Runtime.Hosting;

public static partial class ExperimentsCli
{
    private static Command PredictCommand(IReadOnlyList<IExperiment> registry)
    {
        var result = new Argument<string>("result") { Description = "A result folder `run` wrote (results/NAME), with its model.safetensors." };
        var images = new Argument<string[]>("images") { Description = "Image files (PNG, JPEG, ...) of the dataset's size and channels.", Arity = ArgumentArity.ZeroOrMore };
        var csv = new Option<string?>("--csv") { Description = "For a model trained on a table: a CSV file of rows to classify (the declaration's features, with or without the label column)." };
        var top = new Option<int?>("--top") { Description = "How many classes to print per image, most probable first. Default: 3." }.AtLeast(1);
        var json = new Option<bool>("--json") { Description = "Print the predictions as JSON (file, then classes with their probabilities at full precision)." };
        var command = new Command("predict", "Class probabilities for image files, or a CSV file's rows, from a trained result's model.") { result, images, top, json, csv };
        command.SetAction(parse => Guard(() =>
        {
            using Predictor predictor = Predictor.Open(parse.GetValue(result)!, registry);
            string[] files = parse.GetValue(images)!;
            string? rows = parse.GetValue(csv);
            if ((files.Length == 0) == (rows is null))
            {
                throw new UsageException("give image files or --csv FILE (one of them).");
            }

            IReadOnlyList<Prediction> predictions = rows is null ? predictor.Predict(files, parse.GetValue(top) ?? 3) : predictor.PredictRows(rows, parse.GetValue(top) ?? 3);
            if (parse.GetValue(json))
            {
                Console.Write(ResultJsonContext.Text(predictions.ToList(), ResultJsonContext.Default.ListPrediction));
                return Success;
            }

            foreach (Prediction prediction in predictions)
            {
                string classes = string.Join(", ", prediction.Top.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Class} {p.Probability * 100:F2}%")));
                Console.WriteLine($"{prediction.File}: {classes}");
            }

            return Success;
        }));
        return command;
    }
}
