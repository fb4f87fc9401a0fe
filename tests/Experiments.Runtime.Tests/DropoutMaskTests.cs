using Experiments.Runtime.Native;
using Xunit;
using static TorchSharp.torch;

namespace Experiments.Runtime.Tests;

/// <summary>
/// Dropout's masks do not depend on the CPU's vendor. LibTorch builds with oneMKL can draw Bernoulli masks from
/// oneMKL's own generator, whose streams are split by thread and whose use has depended on the CPU vendor; a mask drawn
/// that way would differ between an Intel and an AMD machine whatever the seed. The masks LibTorch draws here are
/// its Mersenne Twister's: each element is the comparison of one float64 uniform draw with the keep probability,
/// in order, so the same seed gives the same mask on every CPU model.
/// </summary>
public sealed class DropoutMaskTests
{
    [Fact]
    public void Bernoulli_masks_are_libtorchs_own_generator_draw_for_draw()
    {
        TorchRuntime.Initialize(threads: 2);
        const int Count = 100_000;
        manual_seed(7);
        using Tensor mask = empty(Count).bernoulli_(0.7);
        manual_seed(7);
        using Tensor uniform = rand(Count, ScalarType.Float64);
        using Tensor expected = uniform.lt(0.7).to_type(ScalarType.Float32);
        float[] drawn = mask.data<float>().ToArray();
        float[] compared = expected.data<float>().ToArray();
        int equal = drawn.Zip(compared).Count(pair => pair.First == pair.Second);
        Assert.True(equal == Count, $"{Count - equal} of {Count} mask elements differ from LibTorch's own draws: dropout now draws from another generator, whose masks may depend on the CPU.");
        Assert.InRange(drawn.Sum(), 0.69 * Count, 0.71 * Count);
    }
}
