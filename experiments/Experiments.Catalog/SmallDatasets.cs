using Experiments.Layers;

namespace Experiments.Catalog;

// Not seeds: scikit-learn's small real datasets, provisioned from Debian's python3-sklearn package and pinned by
// SHA-256. They train in about a second, so they test the image path (digits: 8x8 images) and the tabular path (iris:
// four numbers per row) end to end in every `dotnet test`. A fifth of each class is held out as the test set.

[Experiment("digits-cnn", Dataset.Digits, Input.Image, Optimizer = Optimizer.Adam, BatchSize = 32, Epochs = 10, Validation = Validation.TestSet, Seed = 1,
    Description = "scikit-learn's 8x8 digits (1,797 images): a small CNN")]
public sealed partial class DigitsCnn
{
    private static readonly Layer[] Layers =
    [
        new Conv2D(16, Kernel: 3, Padding: Padding.Same, Activation: Activation.Relu),
        new MaxPool2D(Pool: 2),
        new Flatten(),
        new Dense(10, Activation.Softmax),
    ];
}

[Experiment("iris-mlp", Dataset.Iris, Input.Flat, Optimizer = Optimizer.Adam, LearningRate = 0.01, BatchSize = 16, Epochs = 50, Validation = Validation.TestSet, Seed = 1,
    Description = "scikit-learn's iris (150 flowers, four measurements): an MLP")]
public sealed partial class IrisMlp
{
    private static readonly Layer[] Layers = [new Dense(16, Activation.Relu), new Dense(3, Activation.Softmax)];
}
