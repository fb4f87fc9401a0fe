using Experiments.Runtime.Native;
using Experiments.Runtime.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Experiments.Runtime.Tests;

/// <summary>Each optimizer against values computed by hand from Keras 2.2's update rules, for gradient g = c (loss = c . p).</summary>
public sealed class OptimizerTests
{
    private static readonly float[] Start = [1.0f, -2.0f];
    private static readonly float[] C = [0.5f, -3.0f];

    private static float[] Steps(OptimizerSettings settings, int steps)
    {
        TorchRuntime.Initialize(threads: 1);
        using var parameter = new TorchSharp.Modules.Parameter(torch.tensor(Start));
        using Tensor c = torch.tensor(C);
        using KerasOptimizer optimizer = KerasOptimizer.Create(settings, [parameter]);
        for (int i = 0; i < steps; i++)
        {
            optimizer.ZeroGrad();
            using Tensor loss = (parameter * c).sum();
            loss.backward();
            optimizer.Step();
        }

        return parameter.data<float>().ToArray();
    }

    [Fact]
    public void Sgd_without_momentum_steps_against_the_gradient()
    {
        float[] p = Steps(OptimizerSettings.Sgd(learningRate: 0.1), 1);
        Assert.Equal(1.0 - (0.1 * 0.5), p[0], 6);
        Assert.Equal(-2.0 + (0.1 * 3.0), p[1], 6);
    }

    [Fact]
    public void Sgd_momentum_accumulates_velocity_the_keras_way()
    {
        // v1 = -lr*c, p1 = p0 + v1; v2 = mu*v1 - lr*c = -0.19c, p2 = p0 - 0.29c.
        float[] p = Steps(OptimizerSettings.Sgd(learningRate: 0.1, momentum: 0.9), 2);
        Assert.Equal(1.0 - (0.29 * 0.5), p[0], 6);
        Assert.Equal(-2.0 + (0.29 * 3.0), p[1], 6);
    }

    [Fact]
    public void Adam_uses_keras_bias_correction_with_epsilon_outside_the_root()
    {
        // t = 1: m = 0.1c, v = 0.001c^2, step = lr*sqrt(1-0.999)/(1-0.9); p -= step * m / (sqrt(v) + 1e-7).
        double step = 1e-3 * Math.Sqrt(1 - 0.999) / (1 - 0.9);
        double Expected(double p0, double c) => p0 - (step * 0.1 * c / ((Math.Sqrt(0.001) * Math.Abs(c)) + 1e-7));
        float[] p = Steps(OptimizerSettings.Adam(), 1);
        Assert.Equal(Expected(1.0, 0.5), p[0], 6);
        Assert.Equal(Expected(-2.0, -3.0), p[1], 6);
    }

    [Fact]
    public void RmsProp_divides_by_the_root_mean_square()
    {
        // a = 0.1c^2; p -= lr * c / (sqrt(a) + 1e-7); second step a = 0.9*0.1c^2 + 0.1c^2 = 0.19c^2.
        double Expected(double p0, double c) =>
            p0 - (1e-3 * c / ((Math.Sqrt(0.1) * Math.Abs(c)) + 1e-7)) - (1e-3 * c / ((Math.Sqrt(0.19) * Math.Abs(c)) + 1e-7));
        float[] p = Steps(OptimizerSettings.RmsProp(), 2);
        Assert.Equal(Expected(1.0, 0.5), p[0], 6);
        Assert.Equal(Expected(-2.0, -3.0), p[1], 6);
    }

    [Fact]
    public void Nesterov_looks_ahead_by_the_momentum()
    {
        // v1 = -lr*c, p1 = p0 + mu*v1 - lr*c = p0 - 0.19c; v2 = mu*v1 - lr*c = -0.19c, p2 = p1 + mu*v2 - lr*c = p0 - 0.461c.
        float[] p = Steps(OptimizerSettings.Sgd(learningRate: 0.1, momentum: 0.9, nesterov: true), 2);
        Assert.Equal(1.0 - (0.461 * 0.5), p[0], 6);
        Assert.Equal(-2.0 + (0.461 * 3.0), p[1], 6);
    }

    [Fact]
    public void AdamW_decays_the_weights_before_the_adam_step()
    {
        // Keras 3: p -= p * wd * lr first, then Adam's t = 1 step as above.
        double step = 1e-3 * Math.Sqrt(1 - 0.999) / (1 - 0.9);
        double Expected(double p0, double c) => (p0 * (1 - (0.1 * 1e-3))) - (step * 0.1 * c / ((Math.Sqrt(0.001) * Math.Abs(c)) + 1e-7));
        float[] p = Steps(OptimizerSettings.AdamW(weightDecay: 0.1), 1);
        Assert.Equal(Expected(1.0, 0.5), p[0], 6);
        Assert.Equal(Expected(-2.0, -3.0), p[1], 6);
        Assert.NotEqual(Steps(OptimizerSettings.Adam(), 1)[0], p[0]);
    }

    [Fact]
    public void Adagrad_accumulates_squares_from_its_initial_value()
    {
        // a1 = 0.1 + c^2, p1 = p0 - lr*c/sqrt(a1 + eps); a2 = 0.1 + 2c^2, p2 = p1 - lr*c/sqrt(a2 + eps).
        double Expected(double p0, double c) => p0 - (0.1 * c / Math.Sqrt(0.1 + (c * c) + 1e-7)) - (0.1 * c / Math.Sqrt(0.1 + (2 * c * c) + 1e-7));
        float[] p = Steps(OptimizerSettings.Adagrad(learningRate: 0.1), 2);
        Assert.Equal(Expected(1.0, 0.5), p[0], 6);
        Assert.Equal(Expected(-2.0, -3.0), p[1], 6);
    }

    [Fact]
    public void Adamax_divides_by_the_infinity_norm()
    {
        // t = 1: m = 0.1c, u = |c|, p -= lr/(1-0.9) * m/(u + eps); t = 2: m = 0.19c, u = max(0.999|c|, |c|) = |c|, p -= lr/(1-0.81) * m/(u + eps).
        double Expected(double p0, double c) => p0 - (1e-3 / 0.1 * 0.1 * c / (Math.Abs(c) + 1e-7)) - (1e-3 / 0.19 * 0.19 * c / (Math.Abs(c) + 1e-7));
        float[] p = Steps(OptimizerSettings.Adamax(), 2);
        Assert.Equal(Expected(1.0, 0.5), p[0], 6);
        Assert.Equal(Expected(-2.0, -3.0), p[1], 6);
    }

    [Fact]
    public void Label_smoothing_mixes_the_one_hot_target_with_the_uniform_one()
    {
        // Logits (2, 0), label 0, smoothing 0.2 over 2 classes: targets (0.9, 0.1); loss = -(0.9 log p0 + 0.1 log p1).
        TorchRuntime.Initialize(threads: 1);
        using Tensor logits = torch.tensor(new float[] { 2, 0, 2, 0 }).reshape(2, 2);
        using Tensor targets = torch.tensor(new long[] { 0, 0 });
        double log = Math.Log(Math.Exp(2) + 1);
        double expected = -((0.9 * (2 - log)) + (0.1 * -log));
        using Tensor mean = Losses.Mean(Loss.CategoricalCrossEntropy, logits, targets, 0.2);
        using Tensor sum = Losses.Sum(Loss.CategoricalCrossEntropy, logits, targets, 0.2);
        using Tensor plain = Losses.Mean(Loss.CategoricalCrossEntropy, logits, targets);
        Assert.Equal(expected, mean.item<float>(), 6);
        Assert.Equal(2 * expected, sum.item<float>(), 5);
        Assert.Equal(log - 2, plain.item<float>(), 6);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingSettings([784], OptimizerSettings.Sgd(), Loss.MeanSquaredError, 32, 1, Data.ValidationSpec.None, 1) { LabelSmoothing = 0.1 });
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.01)]
    [InlineData(double.NaN)]
    public void A_learning_rate_that_is_not_positive_is_rejected(double learningRate)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => OptimizerSettings.Adam(learningRate));
        Assert.Contains("learning rate must be a positive number", e.Message, StringComparison.Ordinal);
    }
}
