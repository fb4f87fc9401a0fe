using Experiments.Layers;

namespace Experiments.Catalog;

// Not a seed: the user's own images. data/my-digits holds 1,000 MNIST training digits and 200 test digits as PNG
// files (written by `experiments data images mnist data/my-digits --train 100 --test 20`), one folder per class;
// the README's "Your own data" walks through it. The result's identity records the SHA-256 of the decoded pixels.

[Experiment("my-digits", Dataset.ImageFolder, Input.Image, DataPath = "data/my-digits", ImageHeight = 28, ImageWidth = 28, Channels = 1,
    Optimizer = Optimizer.Adam, BatchSize = 32, Epochs = 10, Validation = Validation.TestSet, Seed = 1,
    Description = "Your own images: a CNN on data/my-digits (PNG files, one folder per class)")]
public sealed partial class MyDigits
{
    private static readonly Layer[] Layers =
    [
        new Conv2D(16, Kernel: 3, Activation: Activation.Relu),
        new MaxPool2D(Pool: 2),
        new Flatten(),
        new Dense(64, Activation.Relu),
        new Dense(10, Activation.Softmax),
    ];
}
