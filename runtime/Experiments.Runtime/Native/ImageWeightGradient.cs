using static TorchSharp.torch;

namespace Experiments.Runtime.Native;

/// <summary>
/// A stride-1 convolution over a one-channel input that takes no gradient, whose weight gradient is one more forward
/// convolution: dW[f, 0, i, j] = sum over images n and positions (y, x) of dY[n, f, y, x] * X[n, 0, y + i, x + j], which
/// is the convolution of the images seen as the channels of one input (shape 1 x N x H x W) with the output gradient
/// seen as N-channel kernels (F x N x h x w). Its reduction runs over the batch, which fills the vectors oneDNN's
/// channels-last kernels use, where LibTorch's own weight gradient reduces over one channel. The forward pass is
/// LibTorch's convolution unchanged; the bias gradient is the sum of dY over images and positions. Deterministic: the
/// same kernels, the same thread count, the same order; both convolutions run with the allocator fill on, as a guarded
/// module's do. LibTorch has no option for this, hence the custom function.
/// </summary>
internal sealed class ImageWeightGradient : autograd.SingleTensorFunction<ImageWeightGradient>
{
    /// <summary>
    /// The most filters it is used for. The output gradient has to be copied with its images innermost (N x H x W x F
    /// floats), and oneDNN's own kernel fills its vectors with output channels: with 16 filters or more (seed 001's first
    /// convolutions, batch 300) LibTorch's weight gradient trains faster; with 2-8 (seed 002's) this one does.
    /// </summary>
    public const long MaximumFilters = 8;

    public override string Name => nameof(ImageWeightGradient);

    /// <summary>vars: input (N x 1 x H x W), weight (F x 1 x h x w), bias (F, or null), padding rows, padding columns.</summary>
    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        var weight = (Tensor)vars[1];
        var bias = vars[2] as Tensor;
        long padRows = (long)vars[3], padColumns = (long)vars[4];
        ctx.save_for_backward([input]);
        ctx.save_data("bias", bias is not null);
        ctx.save_data("padding", new[] { padRows, padColumns });
        using (AllocatorFill.ForConvolution())
        {
            return nn.functional.conv2d(input, weight, bias, padding: [padRows, padColumns]);
        }
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradient)
    {
        using var scope = NewDisposeScope();
        Tensor input = ctx.get_saved_variables()[0];
        bool bias = (bool)ctx.get_data("bias");
        var padding = (long[])ctx.get_data("padding");

        // The module's hooks do not see these convolutions, so the allocator fill is opened here (see AllocatorFill).
        using IDisposable fill = AllocatorFill.ForConvolution();

        // Both operands channels-last for their new shapes: the images along the channel axis of one input, the output
        // gradient's images along the channel axis of its kernels (one copy each, small against the convolution).
        Tensor images = ConvolutionLayout.ChannelsLastCopy(input.transpose(0, 1));
        Tensor kernels = ConvolutionLayout.ChannelsLastCopy(gradient.transpose(0, 1));
        Tensor weightGradient = nn.functional.conv2d(images, kernels, padding: padding).transpose(0, 1).contiguous();
        Tensor? biasGradient = bias ? gradient.sum([0, 2, 3]) : null;
        return [null!, weightGradient.MoveToOuterDisposeScope(), biasGradient?.MoveToOuterDisposeScope()!, null!, null!];
    }
}
