using Experiments.Layers;

namespace Experiments.Catalog;

// Seed 000: "Use LSTM & CNN model to classify MNIST dataset with at least 90%".

[Experiment("mnist-lstm-256", Dataset.Mnist, Input.Sequence, Optimizer = Optimizer.Adam, LearningRate = 1e-3, BatchSize = 128, Epochs = 1,
    Validation = Validation.TestSet, Seed = 0, Description = "Seed 000: LSTM(256) over 28 rows of 28 pixels; notebook 95.60%")]
[Reported(0.9560, Source = "seed 000, 'LSTM test accuracy: 0.9559999704360962'")]
public sealed partial class MnistLstm256
{
    private static readonly Layer[] Layers = [new Lstm(256), new Dense(10), new ActivationLayer(Activation.Softmax)];
}

[Experiment("mnist-cnn-32-48", Dataset.Mnist, Input.Image, Optimizer = Optimizer.Adam, LearningRate = 1e-3, BatchSize = 64, Epochs = 1,
    Validation = Validation.TestSet, Seed = 0, Description = "Seed 000: LeNet-like CNN 32/48 filters; notebook 98.89%")]
[Reported(0.9889, Source = "seed 000, 'Accuracy: 0.9889' (CNN)")]
public sealed partial class MnistCnn3248
{
    private static readonly Layer[] Layers =
    [
        new Conv2D(32, Kernel: 5, Padding: Padding.Same, Activation: Activation.Relu),
        new MaxPool2D(Stride: 2),
        new Conv2D(48, Kernel: 5, Padding: Padding.Valid, Activation: Activation.Relu),
        new MaxPool2D(Stride: 2),
        new Flatten(),
        new Dense(256, Activation.Relu),
        new Dense(84, Activation.Relu),
        new Dense(10, Activation.Softmax),
    ];
}
