using Experiments.Layers;
using static TorchSharp.torch;

namespace Experiments.Catalog;

// Seed 002: three stages of three parallel convolutions (kernels 4x16, 16x4, 8x8) concatenated on the channel
// axis, SGD lr 0.05, batch 100, 45 epochs, no validation. Models 2-6 add a normalisation layer after each pool
// and after Flatten: the notebook's Lambda x / (max(x) - min(x)) over the whole batch tensor.

/// <summary>The notebook's NORMALIZED Lambda, shared by models 2 to 6.</summary>
public static class BatchRangeNormalisation
{
    public static Tensor Apply(Tensor x) => x / (x.max() - x.min());
}

[Experiment("mnist-branches-1", Dataset.Mnist, Input.Image, Optimizer = Optimizer.Sgd, LearningRate = 0.05, BatchSize = 100, Epochs = 45, Seed = 2,
    Description = "Seed 002 model 1: parallel 4x16/16x4/8x8 convolutions, 2/4/8 filters; notebook 98.60%")]
public sealed partial class MnistBranches1
{
    private static readonly Layer[] Layers =
    [
        new Concatenate(new Conv2D(2, 4, 16, Padding: Padding.Same, Activation: Activation.Relu), new Conv2D(2, 16, 4, Padding: Padding.Same, Activation: Activation.Relu), new Conv2D(2, 8, Padding: Padding.Same, Activation: Activation.Relu)),
        new MaxPool2D(2),
        new Concatenate(new Conv2D(4, 4, 16, Padding: Padding.Same, Activation: Activation.Relu), new Conv2D(4, 16, 4, Padding: Padding.Same, Activation: Activation.Relu), new Conv2D(4, 8, Padding: Padding.Same, Activation: Activation.Relu)),
        new MaxPool2D(2),
        new Concatenate(new Conv2D(8, 4, 16, Padding: Padding.Same, Activation: Activation.Relu), new Conv2D(8, 16, 4, Padding: Padding.Same, Activation: Activation.Relu), new Conv2D(8, 8, Padding: Padding.Same, Activation: Activation.Relu)),
        new MaxPool2D(2),
        new Flatten(),
        new Dense(9, Activation.Relu),
        new Dense(10, Activation.Softmax),
    ];
}

[Experiment("mnist-branches-2", Dataset.Mnist, Input.Image, Optimizer = Optimizer.Sgd, LearningRate = 0.05, BatchSize = 100, Epochs = 45, Seed = 2,
    Description = "Seed 002 model 2: model 1 with batch-range normalisation after each pool and Flatten; notebook 98.88%")]
public sealed partial class MnistBranches2
{
    private static readonly Layer[] Layers =
    [
        new Concatenate(new Conv2D(2, 4, 16, Padding: Padding.Same, Activation: Activation.Relu), new Conv2D(2, 16, 4, Padding: Padding.Same, Activation: Activation.Relu), new Conv2D(2, 8, Padding: Padding.Same, Activation: Activation.Relu)),
        new MaxPool2D(2),
        new Function(nameof(Normalise)),
        new Concatenate(new Conv2D(4, 4, 16, Padding: Padding.Same, Activation: Activation.Relu), new Conv2D(4, 16, 4, Padding: Padding.Same, Activation: Activation.Relu), new Conv2D(4, 8, Padding: Padding.Same, Activation: Activation.Relu)),
        new MaxPool2D(2),
        new Function(nameof(Normalise)),
        new Concatenate(new Conv2D(8, 4, 16, Padding: Padding.Same, Activation: Activation.Relu), new Conv2D(8, 16, 4, Padding: Padding.Same, Activation: Activation.Relu), new Conv2D(8, 8, Padding: Padding.Same, Activation: Activation.Relu)),
        new MaxPool2D(2),
        new Function(nameof(Normalise)),
        new Flatten(),
        new Function(nameof(Normalise)),
        new Dense(9, Activation.Relu),
        new Dense(10, Activation.Softmax),
    ];

    public static Tensor Normalise(Tensor x) => BatchRangeNormalisation.Apply(x);
}
