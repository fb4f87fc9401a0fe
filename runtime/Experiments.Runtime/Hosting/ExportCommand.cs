using System.CommandLine;
using Experiments.Runtime.Export;

namespace Experiments.Runtime.Hosting;

public static partial class ExperimentsCli
{
    private static Command ExportCommand(IReadOnlyList<IExperiment> registry)
    {
        var result = new Argument<string>("result") { Description = "A result folder `run` wrote (results/NAME), with its model.safetensors." };
        var format = new Option<string>("--format")
        {
            Description = "pytorch (model.py and the state dict model.pt), onnx (model.onnx, opset 17) or all.",
            DefaultValueFactory = _ => "all",
        }.AcceptOnlyFromAmong("pytorch", "onnx", "all");
        var output = new Option<string?>("--out") { Description = "Where to write the files. Default: RESULT/export." };
        var reference = new Option<bool>("--reference")
        {
            Description = "Also write reference.pt: the result's test examples as the model takes them, with this model's logits for them, to check another runtime against.",
        };
        var command = new Command("export", "Write a trained result's model for PyTorch and ONNX runtimes, from the declaration's plan.") { result, format, output, reference };
        command.SetAction(parse => Guard(() =>
        {
            using Predictor trained = Predictor.Open(parse.GetValue(result)!, registry);
            string folder = parse.GetValue(output) ?? Path.Combine(parse.GetValue(result)!, "export");
            ExportFormat chosen = parse.GetValue(format) switch
            {
                "pytorch" => ExportFormat.PyTorch,
                "onnx" => ExportFormat.Onnx,
                _ => ExportFormat.All,
            };
            var written = ModelExporter.Export(trained.Experiment, trained.Model, trained.ClassNames, chosen, folder).ToList();
            if (parse.GetValue(reference))
            {
                written.Add(ModelExporter.WriteReference(trained.Experiment, trained.Model, trained.Snapshot, trained.Folder, folder));
            }

            written.ForEach(path => Console.WriteLine($"wrote {path}"));
            return Success;
        }));
        return command;
    }
}
