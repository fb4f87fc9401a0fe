using System.Reflection;
using Experiments.Runtime;
using Experiments.Runtime.Export;
using Experiments.Runtime.Native;
using Experiments.Tests.Shared;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Experiments.Generators.Tests;

/// <summary>
/// Every step the generator plans, exported: the ONNX graph run by ONNX Runtime and the PyTorch module run by Debian's
/// PyTorch give TorchSharp's logits (within 1e-5 of the largest logit's size, at least 1) for the layer families and every exportable catalog model, with
/// weights that are not the initial ones (a few optimizer steps, so BatchNormalization has real statistics).
/// </summary>
public sealed class ExportTests(ITestOutputHelper output)
{
    private static readonly string RepositoryRoot = typeof(ExportTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;

    private static string Declaration(string layers, string input) => GeneratorHarness.Usings + $$"""
        namespace Exported;
        [Experiment("exported", Dataset.Mnist, {{input}})]
        public sealed partial class Exported
        {
            private static readonly Layer[] Layers = [{{layers}}];
        }
        """;

    public static TheoryData<string, string, string> Families => new()
    {
        {
            "residual, layer normalisation, Keras' 'same' average pooling, reshape, gelu, swish, elu, leaky relu",
            "new RandomFlip(FlipMode.Horizontal), new Conv2D(8, 3, Padding: Padding.Same, Activation: Activation.Gelu), " +
            "new Add(new Identity(), new Sequence(new Conv2D(8, 3, Padding: Padding.Same, Activation: Activation.Swish), new Conv2D(8, 3, Padding: Padding.Same))), " +
            "new ActivationLayer(Activation.LeakyRelu), new LayerNormalization(), new AveragePooling2D(2), new AveragePooling2D(3, Padding: Padding.Same), " +
            "new Reshape(5, 5, -1), new ActivationLayer(Activation.Elu), new GlobalAveragePooling2D(), new Dense(10, Activation.Softmax)",
            "Input.Image"
        },
        {
            "even kernels padded as Keras' 'same', concatenation, batch normalisation on both ranks, max pooling 'same', global max, sigmoid, tanh, softplus",
            "new Concatenate(new Conv2D(4, 4, Padding: Padding.Same, Activation: Activation.Sigmoid), new Conv2D(3, 2, KernelWidth: 5, Padding: Padding.Same, Activation: Activation.Tanh)), " +
            "new BatchNormalization(), new MaxPool2D(3, Stride: 2, Padding: Padding.Same), new Conv2D(6, 3, Activation: Activation.Softplus), new GlobalMaxPooling2D(), " +
            "new Dense(16), new BatchNormalization(), new ActivationLayer(Activation.Relu), new Dropout(0.3), new Dense(10, Activation.Softmax)",
            "Input.Image"
        },
        {
            "stacked LSTM and GRU, simple RNN with relu, one-dimensional convolution and pooling",
            "new Conv1D(12, 4, Padding: Padding.Same, Activation: Activation.Relu), new MaxPool1D(3, Padding: Padding.Same), " +
            "new SimpleRnn(6, Activation.Relu, ReturnSequences: true), new Lstm(10, ReturnSequences: true), new Gru(8), new Dense(10, Activation.Softmax)",
            "Input.Sequence"
        },
        {
            "bidirectional LSTM, every step and last step, batch normalisation over the features of a sequence",
            "new Bidirectional(new Lstm(6, ReturnSequences: true)), new BatchNormalization(), new Bidirectional(new Gru(5)), new Dense(10, Activation.Softmax)",
            "Input.Sequence"
        },
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void Layer_families_export_to_onnx_and_pytorch_with_torchsharps_logits(string family, string layers, string input)
    {
        output.WriteLine(family);
        Check(GeneratorHarness.Registry(Declaration(layers, input)).Single());
    }

    public static TheoryData<string> Exportable => new(Experiments.Catalog.ExperimentRegistry.All.Where(e => e.ExportProblem is null).Select(e => e.Info.Name));

    [Theory]
    [MemberData(nameof(Exportable))]
    public void Every_exportable_catalog_model_exports_with_torchsharps_logits(string name) =>
        Check(Experiments.Catalog.ExperimentRegistry.All.Single(e => e.Info.Name == name));

    [Fact]
    public void A_function_layer_cannot_be_exported_and_the_model_says_which_and_what_to_do()
    {
        IExperiment branches = Experiments.Catalog.ExperimentRegistry.All.Single(e => e.Info.Name == "mnist-branches-2");
        Assert.Contains("has a Function layer (global::Experiments.Catalog.BatchRange.Normalise)", branches.ExportProblem, StringComparison.Ordinal);
        Assert.Contains("write the function as layers", branches.ExportProblem, StringComparison.Ordinal);
        TorchRuntime.Initialize(2);
        using nn.Module<Tensor, Tensor> model = branches.CreateModel();
        ExportException error = Assert.Throws<ExportException>(() => ModelExporter.Export(branches, model, ["a", "b"], ExportFormat.All, Path.Combine(Path.GetTempPath(), "never-written")));
        Assert.Equal(branches.ExportProblem, error.Message);
        Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), "never-written")));
    }

    private void Check(IExperiment experiment)
    {
        TorchRuntime.Initialize(2);
        torch.manual_seed(7);
        using nn.Module<Tensor, Tensor> model = experiment.CreateModel();
        using var scope = torch.NewDisposeScope();
        long[] shape = [16, .. experiment.Settings.InputShape.Select(d => (long)d)];

        // A few steps of training: weights off their initial values and BatchNormalization statistics that are not 0 and 1.
        model.train();
        var optimizer = torch.optim.Adam(model.parameters(), 0.001);
        for (int step = 0; step < 3; step++)
        {
            optimizer.zero_grad();
            Tensor loss = nn.functional.cross_entropy(model.call(torch.rand(shape)), torch.randint(0, CatalogModelTests.Classes(experiment), 16));
            loss.backward();
            optimizer.step();
        }

        model.eval();
        Tensor inputs = torch.rand(shape);
        float[] logits;
        using (torch.no_grad())
        {
            logits = model.call(inputs).data<float>().ToArray();
        }

        // Logits that depend on the input: a model whose output is constant would agree with anything.
        int classes = CatalogModelTests.Classes(experiment);
        float[] first = logits[..classes], last = logits[^classes..];
        Assert.True(ExportChecks.LargestDifference(first, last) > 1e-4f, $"{experiment.Info.Name}: the logits do not depend on the input");

        string folder = Directory.CreateTempSubdirectory("experiments-export-").FullName;
        string[] names = Enumerable.Range(0, classes).Select(i => $"class {i}").ToArray();
        IReadOnlyList<string> written = ModelExporter.Export(experiment, model, names, ExportFormat.All, folder);
        Assert.Equal([ModelExporter.PythonFile, ModelExporter.StateDictFile, ModelExporter.OnnxFile], written.Select(Path.GetFileName));

        float onnx = ExportChecks.LargestDifference(logits, ExportChecks.OnnxRuntimeLogits(Path.Combine(folder, ModelExporter.OnnxFile), inputs));
        output.WriteLine($"{experiment.Info.Name}: ONNX Runtime's largest logit difference {onnx:G3}, largest logit {logits.Max(MathF.Abs):G3}");
        Assert.True(onnx <= ExportChecks.Tolerance(logits), $"ONNX Runtime differs from TorchSharp by {onnx}");

        ModelExporter.WriteReference(model, inputs, torch.zeros(16, dtype: int64), folder);
        output.WriteLine(ExportChecks.PythonCheck(RepositoryRoot, folder) ?? "python3 with torch and onnx is not installed here: PyTorch not checked");
        Directory.Delete(folder, recursive: true);
    }
}
