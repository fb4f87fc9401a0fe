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

        // The in-place form, which the optimizers use on their temporaries, gives the same bits.
        using Tensor overwritten = input.clone();
        Assert.Same(overwritten, KerasOptimizer.CorrectlyRoundedSqrt_(overwritten));
        Assert.Equal(y.Select(BitConverter.SingleToInt32Bits), overwritten.data<float>().ToArray().Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Rmsprop_divides_by_the_correctly_rounded_root()
    {
        // One step from a = 0: a = (1 - rho) g^2, p -= lr * g / (sqrt(a) + eps), the root computed here exactly and
        // every other operation the optimizer's own.
        OptimizerSettings settings = OptimizerSettings.RmsProp();
        AssertStepWithExactRoots(settings, (p, g) =>
        {
            using Tensor a = zeros_like(g).mul_(settings.Rho).addcmul_(g, g, value: 1 - settings.Rho);
            using Tensor denominator = ExactRoot(a).add_(settings.Epsilon);
            p.addcdiv_(g, denominator, value: -settings.LearningRate);
        });
    }

    [Fact]
    public void Adam_divides_by_the_correctly_rounded_root()
    {
        OptimizerSettings settings = OptimizerSettings.Adam();
        AssertStepWithExactRoots(settings, (p, g) =>
        {
            double step = settings.LearningRate * Math.Sqrt(1 - settings.Beta2) / (1 - settings.Beta1);
            using Tensor m = zeros_like(g).mul_(settings.Beta1).add_(g, alpha: 1 - settings.Beta1);
            using Tensor v = zeros_like(g).mul_(settings.Beta2).addcmul_(g, g, value: 1 - settings.Beta2);
            using Tensor denominator = ExactRoot(v).add_(settings.Epsilon);
            p.addcdiv_(m, denominator, value: -step);
        });
    }

    /// <summary>
    /// One optimizer step on a parameter whose gradient is <c>g</c> (loss = g . p) against <paramref name="expected"/>,
    /// which steps a copy of the start p by hand from g: the two must have the same bits.
    /// </summary>
    private static void AssertStepWithExactRoots(OptimizerSettings settings, Action<Tensor, Tensor> expected)
    {
        TorchRuntime.Initialize(threads: 2);
        float[] start = Enumerable.Range(0, 100_000).Select(i => (float)Math.Sin(i * 0.37)).ToArray();
        float[] gradient = Enumerable.Range(0, 100_000).Select(i => (float)(Math.Cos(i * 0.11) * Math.Pow(10, -(i % 7)))).ToArray();
        float[] stepped;
        using (var parameter = new TorchSharp.Modules.Parameter(tensor(start)))
        using (Tensor g = tensor(gradient))
        using (KerasOptimizer optimizer = KerasOptimizer.Create(settings, [parameter]))
        {
            optimizer.ZeroGrad();
            using (Tensor loss = (parameter * g).sum())
            {
                loss.backward();
            }

            optimizer.Step();
            stepped = parameter.data<float>().ToArray();
        }

        using Tensor p = tensor(start);
        using Tensor gradientCopy = tensor(gradient);
        using (no_grad())
        {
            expected(p, gradientCopy);
        }

        float[] e = p.data<float>().ToArray();
        int differing = Enumerable.Range(0, e.Length).Count(i => BitConverter.SingleToInt32Bits(e[i]) != BitConverter.SingleToInt32Bits(stepped[i]));
        Assert.True(differing == 0, $"{differing} of {e.Length} values differ from the step with correctly rounded roots");
    }

    private static Tensor ExactRoot(Tensor x) => tensor(x.data<float>().ToArray().Select(Exact).ToArray());
}
