using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Runtime.Training;

/// <summary>The losses of <see cref="Loss"/>, from logits.</summary>
public static class Losses
{
    /// <summary>The mean loss over a batch, as Keras reports it.</summary>
    /// <param name="labelSmoothing">Keras' label_smoothing of categorical cross-entropy: targets y * (1 - s) + s / classes (PyTorch's definition too).</param>
    public static Tensor Mean(Loss kind, Tensor logits, Tensor targets, double labelSmoothing = 0) => kind switch
    {
        Loss.CategoricalCrossEntropy when labelSmoothing > 0 => nn.functional.cross_entropy(logits, targets, label_smoothing: labelSmoothing),
        Loss.CategoricalCrossEntropy => nn.functional.cross_entropy(logits, targets),
        Loss.MeanSquaredError => nn.functional.mse_loss(nn.functional.softmax(logits, 1), OneHot(targets, logits.shape[1])),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown loss."),
    };

    /// <summary>The sum over the batch of each example's loss (Keras' per-example MSE is a mean over classes).</summary>
    public static Tensor Sum(Loss kind, Tensor logits, Tensor targets, double labelSmoothing = 0) => kind switch
    {
        Loss.CategoricalCrossEntropy when labelSmoothing > 0 => nn.functional.cross_entropy(logits, targets, reduction: nn.Reduction.Sum, label_smoothing: labelSmoothing),
        Loss.CategoricalCrossEntropy => nn.functional.cross_entropy(logits, targets, reduction: nn.Reduction.Sum),
        Loss.MeanSquaredError => nn.functional.mse_loss(nn.functional.softmax(logits, 1), OneHot(targets, logits.shape[1]), nn.Reduction.Sum) / logits.shape[1],
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown loss."),
    };

    private static Tensor OneHot(Tensor targets, long classes) => nn.functional.one_hot(targets, classes).to(torch.float32);
}
