using Experiments;
using Experiments.Layers;

namespace MyLabNamespace;

// An experiment is a declaration: dataset, layers, training settings, seed. At build time the generator turns it into
// a TorchSharp model, a Keras-style summary (`dotnet run -- summary mnist-mlp`) and an entry in ExperimentRegistry.
// A model that cannot work (shapes, arguments) is a compile error EXPnnnn naming the layer and the fix.
[Experiment("mnist-mlp", Dataset.Mnist, Input.Flat, Optimizer = Optimizer.Adam, BatchSize = 128, Epochs = 3,
    Validation = Validation.Seeded, ValidationFraction = 0.1, Seed = 1, Description = "A two-layer MLP on MNIST")]
[Tolerance(Metric.TestAccuracy, 0.01)]
public sealed partial class MnistMlp
{
    private static readonly Layer[] Layers =
    [
        new Dense(128, Activation.Relu),
        new Dropout(0.2),
        new Dense(10, Activation.Softmax),
    ];
}
