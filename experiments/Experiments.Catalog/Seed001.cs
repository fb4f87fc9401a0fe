using Experiments.Layers;

namespace Experiments.Catalog;

// Seed 001: MLP, CNN and RNN on MNIST (Traditional Chinese notebook).

[Experiment("mnist-mlp-50-sgd", Dataset.Mnist, Input.Flat, Optimizer = Optimizer.Sgd, BatchSize = 128, Epochs = 10, Seed = 1,
    Description = "Seed 001: Dense 50 (linear) + softmax, SGD; notebook 91.22%")]
[Reported(0.9122, Source = "seed 001, MLP 'accuracy = 91.22%'")]
public sealed partial class MnistMlp50Sgd
{
    private static readonly Layer[] Layers = [new Dense(50), new Dense(10), new ActivationLayer(Activation.Softmax)];
}

[Experiment("mnist-cnn-16-16", Dataset.Mnist, Input.Image, Optimizer = Optimizer.Adam, BatchSize = 300, Epochs = 10,
    Validation = Validation.KerasTail, ValidationFraction = 0.2, Seed = 1, Description = "Seed 001: CNN 16/16 filters; notebook 99.02%")]
[Reported(0.9902, Source = "seed 001, CNN 'Loss: 0.03, Accuracy: 99.02%'")]
public sealed partial class MnistCnn1616
{
    private static readonly Layer[] Layers =
    [
        new Conv2D(16, Kernel: 5, Padding: Padding.Same, Activation: Activation.Relu),
        new MaxPool2D(2),
        new Conv2D(16, Kernel: 5, Padding: Padding.Same, Activation: Activation.Relu),
        new MaxPool2D(2),
        new Dropout(0.25),
        new Flatten(),
        new Dense(128, Activation.Relu),
        new Dropout(0.5),
        new Dense(10, Activation.Softmax),
    ];
}

[Experiment("mnist-cnn-16-36", Dataset.Mnist, Input.Image, Optimizer = Optimizer.Adam, BatchSize = 300, Epochs = 10,
    Validation = Validation.KerasTail, ValidationFraction = 0.2, Seed = 1, Description = "Seed 001: CNN 16/36 filters; notebook 99.18%")]
[Reported(0.9918, Source = "seed 001, CNN 'Loss: 0.02, Accuracy: 99.18%'")]
public sealed partial class MnistCnn1636
{
    private static readonly Layer[] Layers =
    [
        new Conv2D(16, Kernel: 5, Padding: Padding.Same, Activation: Activation.Relu),
        new MaxPool2D(2),
        new Conv2D(36, Kernel: 5, Padding: Padding.Same, Activation: Activation.Relu),
        new MaxPool2D(2),
        new Dropout(0.25),
        new Flatten(),
        new Dense(128, Activation.Relu),
        new Dropout(0.5),
        new Dense(10, Activation.Softmax),
    ];
}

[Experiment("mnist-lstm-50-sgd", Dataset.Mnist, Input.Sequence, Optimizer = Optimizer.Sgd, BatchSize = 128, Epochs = 10, Seed = 1,
    Description = "Seed 001: LSTM(50), SGD; notebook 82.71%")]
[Reported(0.8271, Source = "seed 001, LSTM SGD 'accuracy = 82.71%'")]
public sealed partial class MnistLstm50Sgd
{
    private static readonly Layer[] Layers = [new Lstm(50), new Dense(10), new ActivationLayer(Activation.Softmax)];
}

[Experiment("mnist-lstm-128-adam", Dataset.Mnist, Input.Sequence, Optimizer = Optimizer.Adam, BatchSize = 128, Epochs = 10, Seed = 1,
    Description = "Seed 001: LSTM(128), Adam; notebook 98.38%")]
[Reported(0.9838, Source = "seed 001, LSTM Adam 'accuracy = 98.38%'")]
public sealed partial class MnistLstm128Adam
{
    private static readonly Layer[] Layers = [new Lstm(128), new Dense(10), new ActivationLayer(Activation.Softmax)];
}
