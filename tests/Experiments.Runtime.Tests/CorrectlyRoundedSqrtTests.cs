using Experiments.Runtime.Native;
using Experiments.Runtime.Training;
using Xunit;
using static TorchSharp.torch;

namespace Experiments.Runtime.Tests;

/// <summary>
/// The optimizers' square roots are the correctly rounded ones, so that an Adam or RMSprop step has the same bits on
/// every CPU model. LibTorch's own float32 sqrt is not (oneMKL's vector maths, one ulp off for about one value in seven
/// on an AMD EPYC family 26); where it happens to be exact on some CPU, these tests still check the optimizers' results.
/// </summary>
public sealed class CorrectlyRoundedSqrtTests
{
    /// <summary>Positive floats over every binade from the subnormals to 2^100, plus Adam's typical second moments.</summary>
    private static float[] Inputs()
    {
        var values = new List<float>();
        for (int exponent = -149; exponent <= 100; exponent++)
        {
            for (int k = 0; k < 997; k++)
            {
                values.Add((float)Math.ScaleB(1 + (k / 997.0), exponent));
            }
        }

        for (int i = 1; i <= 200_000; i++)
        {
            values.Add(i * 5e-9f);
        }

        return [.. values];
    }

    /// <summary>The correctly rounded float32 root: Math.Sqrt is IEEE's in double, and double rounding from 53 to 24 bits is exact for a root.</summary>
    private static float Exact(float x) => (float)Math.Sqrt(x);

    [Fact]
    public void Every_root_is_the_correctly_rounded_one()
    {
        TorchRuntime.Initialize(threads: 2);
        float[] x = Inputs();
        using Tensor input = tensor(x);
        using Tensor root = KerasOptimizer.CorrectlyRoundedSqrt(input);
        Assert.Equal(ScalarType.Float32, root.dtype);
        float[] y = root.data<float>().ToArray();
        int[] wrong = Enumerable.Range(0, x.Length).Where(i => BitConverter.SingleToInt32Bits(y[i]) != BitConverter.SingleToInt32Bits(Exact(x[i]))).Take(5).ToArray();
        Assert.True(wrong.Length == 0, "not correctly rounded: " + string.Join(", ", wrong.Select(i => $"sqrt({x[i]:R}) = {y[i]:R}, exact {Exact(x[i]):R}")));
    }

    [Fact]
    public void Rmsprop_divides_by_the_correctly_rounded_root()
    {
        // One step from a = 0: a = (1 - rho) g^2, p -= lr * g / (sqrt(a) + eps), the root computed here exactly and
        // every other operation the optimizer's own.
        OptimizerSettings settings = OptimizerSettings.RmsProp();
        (float[] stepped, Tensor p, Tensor g) = OneStep(settings);
        using (p)
        using (g)
        using (no_grad())
        {
            using Tensor a = zeros_like(g).mul_(settings.Rho).addcmul_(g, g, value: 1 - settings.Rho);
            using Tensor denominator = ExactRoot(a).add_(settings.Epsilon);
            p.addcdiv_(g, denominator, value: -settings.LearningRate);
            AssertSameBits(p, stepped);
        }
    }

    [Fact]
    public void Adam_divides_by_the_correctly_rounded_root()
    {
        OptimizerSettings settings = OptimizerSettings.Adam();
        (float[] stepped, Tensor p, Tensor g) = OneStep(settings);
        using (p)
        using (g)
        using (no_grad())
        {
            double step = settings.LearningRate * Math.Sqrt(1 - settings.Beta2) / (1 - settings.Beta1);
            using Tensor m = zeros_like(g).mul_(settings.Beta1).add_(g, alpha: 1 - settings.Beta1);
            using Tensor v = zeros_like(g).mul_(settings.Beta2).addcmul_(g, g, value: 1 - settings.Beta2);
            using Tensor denominator = ExactRoot(v).add_(settings.Epsilon);
            p.addcdiv_(m, denominator, value: -step);
            AssertSameBits(p, stepped);
        }
    }

    /// <summary>One optimizer step on a parameter whose gradient is <c>g</c> (loss = g . p); returns the stepped values and copies of the start and the gradient.</summary>
    private static (float[] Stepped, Tensor Start, Tensor Gradient) OneStep(OptimizerSettings settings)
    {
        TorchRuntime.Initialize(threads: 2);
        float[] start = Enumerable.Range(0, 100_000).Select(i => (float)Math.Sin(i * 0.37)).ToArray();
        float[] gradient = Enumerable.Range(0, 100_000).Select(i => (float)(Math.Cos(i * 0.11) * Math.Pow(10, -(i % 7)))).ToArray();
        using var parameter = new TorchSharp.Modules.Parameter(tensor(start));
        using Tensor g = tensor(gradient);
        using KerasOptimizer optimizer = KerasOptimizer.Create(settings, [parameter]);
        optimizer.ZeroGrad();
        using (Tensor loss = (parameter * g).sum())
        {
            loss.backward();
        }

        optimizer.Step();
        return (parameter.data<float>().ToArray(), tensor(start), tensor(gradient));
    }

    private static Tensor ExactRoot(Tensor x) => tensor(x.data<float>().ToArray().Select(Exact).ToArray());

    private static void AssertSameBits(Tensor expected, float[] actual)
    {
        float[] e = expected.data<float>().ToArray();
        int differing = Enumerable.Range(0, e.Length).Count(i => BitConverter.SingleToInt32Bits(e[i]) != BitConverter.SingleToInt32Bits(actual[i]));
        Assert.True(differing == 0, $"{differing} of {e.Length} values differ from the step with correctly rounded roots");
    }
}
