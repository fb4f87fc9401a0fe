using System.Globalization;
using System.Text;
using Experiments.Runtime.Data;
using Experiments.Runtime.Snapshots;
using Experiments.Runtime.IO;
using Google.Protobuf;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Experiments.Runtime.Export;

/// <summary>What `export` writes: PyTorch (model.py and model.pt), ONNX (model.onnx), or both.</summary>
[Flags]
public enum ExportFormat
{
    PyTorch = 1,
    Onnx = 2,
    All = PyTorch | Onnx,
}

/// <summary>
/// Writes a trained result's model for other runtimes, from the generator's plan of the declaration: a PyTorch module
/// (model.py) with the weights as a PyTorch state dict (model.pt, TorchSharp.PyBridge's torch.save format), and an
/// ONNX graph (model.onnx, opset <see cref="OnnxGraph.Opset"/>) with the weights inside. Every file is written to a
/// temporary name and renamed.
/// </summary>
public static class ModelExporter
{
    public const string PythonFile = "model.py";
    public const string StateDictFile = "model.pt";
    public const string OnnxFile = "model.onnx";
    public const string ReferenceFile = "reference.pt";

    /// <summary>Writes <paramref name="model"/> (a model of <paramref name="experiment"/>) as <paramref name="format"/> into <paramref name="folder"/>.</summary>
    public static IReadOnlyList<string> Export(IExperiment experiment, nn.Module<Tensor, Tensor> model, IReadOnlyList<string> classNames, ExportFormat format, string folder)
    {
        if (experiment.ExportProblem is { } problem)
        {
            throw new ExportException(problem);
        }

        Directory.CreateDirectory(folder);
        var written = new List<string>();
        if (format.HasFlag(ExportFormat.PyTorch))
        {
            string python = Path.Combine(folder, PythonFile);
            AtomicFile.WriteAllText(python, PythonModule(experiment, classNames));
            written.Add(python);
            string stateDict = Path.Combine(folder, StateDictFile);
            AtomicFile.WriteAllBytes(stateDict, Bytes(stream => model.save_py(stream)));
            written.Add(stateDict);
        }

        if (format.HasFlag(ExportFormat.Onnx))
        {
            string onnx = Path.Combine(folder, OnnxFile);
            AtomicFile.WriteAllBytes(onnx, Onnx(experiment, model, classNames).ToByteArray());
            written.Add(onnx);
        }

        return written;
    }

    /// <summary>The model's ONNX graph with the weights of <paramref name="model"/> as initializers.</summary>
    public static Onnx.ModelProto Onnx(IExperiment experiment, nn.Module<Tensor, Tensor> model, IReadOnlyList<string> classNames)
    {
        using var scope = NewDisposeScope();
        var graph = new OnnxGraph(experiment.Info.Name, experiment.Settings.InputShape, model.state_dict().Select(p => (p.Key, p.Value)));
        string logits = experiment.BuildOnnx(graph);
        return graph.Build(logits, classNames.Count, Describe(experiment, classNames));
    }

    /// <summary>
    /// The result's own test examples (the same seeded selection the run evaluated) as the model takes them, with the
    /// model's logits for them, as a PyTorch state dict (reference.pt: inputs, logits, labels): what another runtime's
    /// copy of the model must reproduce. The model's logits give the result's test confusion matrix (checked here).
    /// </summary>
    public static string WriteReference(IExperiment experiment, nn.Module<Tensor, Tensor> model, SnapshotDocument result, string resultFolder, string folder)
    {
        ImageDataset data = Datasets.Load(experiment.Info);
        long seed = long.Parse(result.Run["seed"], CultureInfo.InvariantCulture);
        int examples = int.Parse(result.Run["test_examples"], CultureInfo.InvariantCulture);
        ImageSet test = data.Test.Select(DataSplit.Subset(data.Test.Labels, examples, seed, stream: 1));
        using var scope = NewDisposeScope();
        using var device = new Training.DeviceData(test, experiment.Settings.InputShape, experiment.Settings.InputScale, CPU);
        string path = WriteReference(model, device.Inputs, device.Targets, folder, out Tensor logits);
        int[] predicted = logits.argmax(1).data<long>().Select(p => (int)p).ToArray();
        var confusion = Training.ConfusionMatrix.From(result.TestConfusion.ClassNames, test.Labels, predicted);
        if (!confusion.Rows.SelectMany(row => row).SequenceEqual(result.TestConfusion.Rows.SelectMany(row => row)))
        {
            File.Delete(path);
            throw new ExportException($"{resultFolder}: the model's predictions for the run's {test.Count} test examples do not give the test confusion matrix the run recorded; the data or the weights changed since the run.");
        }

        return path;
    }

    /// <summary>reference.pt for <paramref name="inputs"/>: them, <paramref name="model"/>'s logits (in inference) and <paramref name="labels"/>.</summary>
    public static string WriteReference(nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor labels, string folder) =>
        WriteReference(model, inputs, labels, folder, out _);

    private static string WriteReference(nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor labels, string folder, out Tensor logits)
    {
        using var noGrad = no_grad();
        using IDisposable fill = Native.AllocatorFill.For(model);
        model.eval();
        logits = model.call(inputs);
        var tensors = new Dictionary<string, Tensor> { ["inputs"] = inputs, ["logits"] = logits, ["labels"] = labels };
        string path = Path.Combine(folder, ReferenceFile);
        AtomicFile.WriteAllBytes(path, Bytes(stream => PyTorchPickler.PickleStateDict(stream, tensors)));
        return path;
    }

    /// <summary>What a PyBridge writer gives (it closes the stream it writes, so it gets its own).</summary>
    private static byte[] Bytes(Action<Stream> write)
    {
        var stream = new MemoryStream();
        write(stream);
        return stream.ToArray();
    }

    private static string Describe(IExperiment experiment, IReadOnlyList<string> classNames) =>
        $"{experiment.Info.Name} (fingerprint {experiment.Info.Fingerprint}), exported by Experiments. Input 'input': float32 [N, {string.Join(", ", experiment.Settings.InputShape)}], " +
        $"pixels scaled by {experiment.Settings.InputScale.ToString("R", CultureInfo.InvariantCulture)}. Outputs 'logits' and their softmax 'probabilities' over the classes {string.Join(", ", classNames)}.";

    /// <summary>model.py: a header on how to load it, the generated module, and the constants a caller needs.</summary>
    public static string PythonModule(IExperiment experiment, IReadOnlyList<string> classNames)
    {
        var text = new StringBuilder();
        text.Append("# ").Append(experiment.Info.Name).Append(" as a PyTorch module, written by `experiments export` from the declaration (fingerprint ")
            .Append(experiment.Info.Fingerprint).Append(").\n");
        text.Append("#   model = Model(); model.load_state_dict(torch.load(\"model.pt\")); model.eval()\n");
        text.Append("#   probabilities = torch.softmax(model(x), 1)  # x: float32 [N, ").Append(string.Join(", ", experiment.Settings.InputShape))
            .Append("], pixels times INPUT_SCALE\n");
        text.Append("import torch\nfrom torch import nn\nimport torch.nn.functional as F\n\n");
        text.Append("INPUT_SHAPE = (").Append(string.Join(", ", experiment.Settings.InputShape)).Append(experiment.Settings.InputShape.Count == 1 ? ",)\n" : ")\n");
        text.Append("INPUT_SCALE = ").Append(((double)experiment.Settings.InputScale).ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        text.Append("CLASS_NAMES = [").Append(string.Join(", ", classNames.Select(PythonString))).Append("]\n\n\n");
        text.Append(experiment.PyTorchSource.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n')).Append('\n');
        return text.ToString();
    }

    private static string PythonString(string value)
    {
        var quoted = new StringBuilder("\"");
        foreach (char c in value)
        {
            quoted.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                < ' ' => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }

        return quoted.Append('"').ToString();
    }
}
