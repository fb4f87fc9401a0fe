using Experiments.Layers;

namespace Experiments.Catalog;

// Seed 004: an MLP with Keras' defaults (RMSprop, batch 32), test set as validation data.

[Experiment("mnist-mlp-512-rmsprop", Dataset.Mnist, Input.Flat, Optimizer = Optimizer.RmsProp, BatchSize = 32, Epochs = 5,
    Validation = Validation.TestSet, Seed = 4, Description = "Seed 004: MLP 512-512, Keras defaults; accuracy not reported")]
public sealed partial class MnistMlp512RmsProp
{
    private static readonly Layer[] Layers = [new Dense(512, Activation.Relu), new Dense(512, Activation.Relu), new Dense(10, Activation.Softmax)];
}
