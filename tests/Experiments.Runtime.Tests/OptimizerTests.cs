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

    /// <summary>Keras 2.2's Nadam for one scalar with a constant gradient, line by line as keras/optimizers.py writes it.</summary>
    private static double KerasNadam(double p, double g, int steps)
    {
        double m = 0, v = 0, schedule = 1;
        const double lr = 0.002, b1 = 0.9, b2 = 0.999, eps = 1e-7, decay = 0.004;
        for (int t = 1; t <= steps; t++)
        {
            double cache = b1 * (1 - (0.5 * Math.Pow(0.96, t * decay)));
            double cacheNext = b1 * (1 - (0.5 * Math.Pow(0.96, (t + 1) * decay)));
            double scheduleNew = schedule * cache;
            double scheduleNext = schedule * cache * cacheNext;
            schedule = scheduleNew;
            double gPrime = g / (1 - scheduleNew);
            m = (b1 * m) + ((1 - b1) * g);
            double mPrime = m / (1 - scheduleNext);
            v = (b2 * v) + ((1 - b2) * g * g);
            double vPrime = v / (1 - Math.Pow(b2, t));
            double mBar = ((1 - cache) * gPrime) + (cacheNext * mPrime);
            p -= lr * mBar / (Math.Sqrt(vPrime) + eps);
        }

        return p;
    }

    [Fact]
    public void Nadam_follows_keras_momentum_schedule()
    {
        float[] p = Steps(OptimizerSettings.Nadam(), 3);
        Assert.Equal(KerasNadam(1.0, 0.5, 3), p[0], 6);
        Assert.Equal(KerasNadam(-2.0, -3.0, 3), p[1], 6);

        // In float64 the update is the reference's to 1e-12: close enough to see the schedule's step-to-step change
        // (mu_t and mu_t+1 differ by about 7e-5 relative, a few float32 units in these parameters).
        TorchRuntime.Initialize(threads: 1);
        using var wide = new TorchSharp.Modules.Parameter(torch.tensor(new[] { 1.0, -2.0 }));
        using Tensor c = torch.tensor(new[] { 0.5, -3.0 });
        using (KerasOptimizer optimizer = KerasOptimizer.Create(OptimizerSettings.Nadam(), [wide]))
        {
            for (int i = 0; i < 3; i++)
            {
                optimizer.ZeroGrad();
                using Tensor loss = (wide * c).sum();
                loss.backward();
                optimizer.Step();
            }
        }

        double[] exact = wide.data<double>().ToArray();
        Assert.Equal(KerasNadam(1.0, 0.5, 3), exact[0], 12);
        Assert.Equal(KerasNadam(-2.0, -3.0, 3), exact[1], 12);

        // The first step by hand: mu1 = 0.9(1 - 0.5*0.96^0.004), mu2 likewise; with m = 0.1g and v = 0.001g^2,
        // m_bar = (1-mu1)g/(1-mu1) + mu2*0.1g/(1-mu1*mu2) and the step is lr*m_bar/(|g| + eps) = lr*(1 + 0.1mu2/(1-mu1*mu2))*sign(g).
        double mu1 = 0.9 * (1 - (0.5 * Math.Pow(0.96, 0.004)));
        double mu2 = 0.9 * (1 - (0.5 * Math.Pow(0.96, 0.008)));
        float[] one = Steps(OptimizerSettings.Nadam(), 1);
        Assert.Equal(1.0 - (0.002 * (0.5 + (mu2 * 0.05 / (1 - (mu1 * mu2)))) / (0.5 + 1e-7)), one[0], 6);
    }

    [Fact]
    public void Adadelta_scales_each_update_by_the_running_root_mean_square_of_updates()
    {
        // Keras 2.2, rho 0.95, lr 1: a1 = 0.05g^2, u1 = g*sqrt(eps)/sqrt(a1 + eps), d1 = 0.05u1^2;
        // a2 = 0.95a1 + 0.05g^2, u2 = g*sqrt(d1 + eps)/sqrt(a2 + eps).
        static double Expected(double p0, double g)
        {
            const double eps = 1e-7;
            double a1 = 0.05 * g * g;
            double u1 = g * Math.Sqrt(eps) / Math.Sqrt(a1 + eps);
            double d1 = 0.05 * u1 * u1;
            double a2 = (0.95 * a1) + (0.05 * g * g);
            double u2 = g * Math.Sqrt(d1 + eps) / Math.Sqrt(a2 + eps);
            return p0 - u1 - u2;
        }

        float[] p = Steps(OptimizerSettings.Adadelta(), 2);
        Assert.Equal(Expected(1.0, 0.5), p[0], 6);
        Assert.Equal(Expected(-2.0, -3.0), p[1], 6);
    }

    /// <summary>Nadam's momentum schedule is a function of the step count: a resumed optimizer continues with the same bits.</summary>
    [Fact]
    public void Nadam_resumed_from_its_state_and_step_count_continues_bit_for_bit()
    {
        TorchRuntime.Initialize(threads: 1);
        using Tensor c = torch.tensor(C);
        float[] Run(int before, bool resume)
        {
            using var parameter = new TorchSharp.Modules.Parameter(torch.tensor(Start));
            var optimizer = KerasOptimizer.Create(OptimizerSettings.Nadam(), [parameter]);
            void Step(KerasOptimizer o)
            {
                o.ZeroGrad();
                using Tensor loss = (parameter * c * parameter).sum();
                loss.backward();
                o.Step();
            }

            for (int i = 0; i < before; i++)
            {
                Step(optimizer);
            }

            if (resume)
            {
                float[][] state = optimizer.State.Select(t => t.data<float>().ToArray()).ToArray();
                long iterations = optimizer.Iterations;
                optimizer.Dispose();
                optimizer = KerasOptimizer.Create(OptimizerSettings.Nadam(), [parameter]);
                using (torch.no_grad())
                {
                    for (int i = 0; i < state.Length; i++)
                    {
                        using Tensor saved = torch.tensor(state[i]);
                        optimizer.State[i].copy_(saved);
                    }
                }

                optimizer.RestoreIterations(iterations);
            }

            Step(optimizer);
            Step(optimizer);
            optimizer.Dispose();
            return parameter.data<float>().ToArray();
        }

        Assert.Equal(Run(3, resume: false), Run(3, resume: true));
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
