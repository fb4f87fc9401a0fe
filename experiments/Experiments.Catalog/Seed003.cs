using Experiments.Layers;

namespace Experiments.Catalog;

// Seed 003: Fashion-MNIST, an MLP and a CNN with BatchNormalization; Adam 1e-3, batch 64, 50 epochs, test set as validation.

[Experiment("fashion-mlp-bn", Dataset.FashionMnist, Input.Flat, Optimizer = Optimizer.Adam, LearningRate = 1e-3, BatchSize = 64, Epochs = 50,
    Validation = Validation.TestSet, Seed = 3, Description = "Seed 003: MLP 512-512-256-256 with BatchNormalization; notebook 88.40%")]
[Reported(0.8840, Source = "seed 003, MLP evaluate: 0.8840000033378601")]
public sealed partial class FashionMlpBn
{
    private static readonly Layer[] Layers =
    [
        new Dense(512, Activation.Relu), new BatchNormalization(),
        new Dense(512, Activation.Relu), new BatchNormalization(), new Dropout(0.3),
        new Dense(256, Activation.Relu), new BatchNormalization(),
        new Dense(256, Activation.Relu), new BatchNormalization(), new Dropout(0.3),
        new Dense(10, Activation.Softmax),
    ];
}

/// <remarks>BatchNormalization(axis=1) on channels-last images normalises over the image rows, as the notebook does.</remarks>
[Experiment("fashion-cnn-bn", Dataset.FashionMnist, Input.Image, Optimizer = Optimizer.Adam, LearningRate = 1e-3, BatchSize = 64, Epochs = 50,
    Validation = Validation.TestSet, Seed = 3, Description = "Seed 003: CNN 128-128-256-256 with BatchNormalization(axis=1); notebook 92.95%")]
[Reported(0.9295, Source = "seed 003, CNN evaluate: 0.9294999837875366")]
public sealed partial class FashionCnnBn
{
    private static readonly Layer[] Layers =
    [
        new Conv2D(128, 3, Activation: Activation.Relu), new BatchNormalization(Axis: 1),
        new Conv2D(128, 3, Activation: Activation.Relu), new BatchNormalization(Axis: 1), new Dropout(0.3),
        new Conv2D(256, 3, Activation: Activation.Relu), new BatchNormalization(Axis: 1),
        new Conv2D(256, 3, Activation: Activation.Relu), new BatchNormalization(Axis: 1),
        new MaxPool2D(2), new Dropout(0.3), new Flatten(),
        new Dense(256, Activation.Relu), new BatchNormalization(),
        new Dense(256, Activation.Relu), new BatchNormalization(), new Dropout(0.3),
        new Dense(10, Activation.Softmax),
    ];
}
