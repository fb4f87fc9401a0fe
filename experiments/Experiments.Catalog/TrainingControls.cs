using Experiments.Layers;

namespace Experiments.Catalog;

// Not one of the seeds: the experiment a student writes after them. A Fashion-MNIST CNN with a residual block, trained
// on randomly flipped and shifted images with Adam under a cosine learning-rate schedule (one epoch of warmup),
// stopped early once the validation loss has not improved for three epochs, ending with the weights of its best epoch.
// The validation split is a seeded 10% of the training data, so the test set stays unseen until the end; the
// augmentation applies to training batches only, each image's flip and shift drawn from (seed, epoch, its index).

[Experiment("fashion-cnn-cosine-early-stop", Dataset.FashionMnist, Input.Image, Optimizer = Optimizer.Adam, LearningRate = 2e-3, BatchSize = 128,
    Epochs = 30, Validation = Validation.Seeded, ValidationFraction = 0.1, Seed = 7,
    Description = "Fashion-MNIST CNN 32/64 with a residual block, flip and shift augmentation, a cosine schedule and early stopping on the validation loss (best weights restored)")]
[LearningRateSchedule(Schedule.Cosine, WarmupEpochs = 1)]
[EarlyStopping(Metric.ValidationLoss, Patience = 3, RestoreBestWeights = true)]
public sealed partial class FashionCnnCosineEarlyStop
{
    private static readonly Layer[] Layers =
    [
        new RandomFlip(FlipMode.Horizontal),
        new RandomTranslation(Height: 0.1, Width: 0.1),
        new Conv2D(32, Kernel: 3, Activation: Activation.Relu),
        new MaxPool2D(),
        new Add(new Identity(), new Sequence(new Conv2D(32, Kernel: 3, Padding: Padding.Same, Activation: Activation.Relu), new Conv2D(32, Kernel: 3, Padding: Padding.Same))),
        new ActivationLayer(Activation.Relu),
        new Conv2D(64, Kernel: 3, Activation: Activation.Relu),
        new MaxPool2D(),
        new Flatten(),
        new Dropout(0.3),
        new Dense(128, Activation.Relu),
        new Dense(10, Activation.Softmax),
    ];
}
