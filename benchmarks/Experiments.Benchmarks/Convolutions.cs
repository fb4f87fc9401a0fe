using System.Diagnostics;
using System.Globalization;
using static TorchSharp.torch;

/// <summary>
/// Seed 002's branch model one operation at a time, at its training batch (100): each stage's three Keras-'same'
/// convolutions (kernels 4x16, 16x4, 8x8; explicit asymmetric padding first), the concatenation, the pooling and the
/// batch-range normalisation, forward and backward, in milliseconds per call (best of five rounds). The layout
/// column compares LibTorch's default (NCHW) with channels-last; backward-data is the difference between a backward
/// that needs the input's gradient and one that does not. Usage: convolutions [--threads 2] [--batch 100].
/// </summary>
internal static class Convolutions
{
    private static readonly (int Channels, int Size, int Filters)[] Stages = [(1, 28, 2), (6, 14, 4), (12, 7, 8)];
    private static readonly (int Height, int Width)[] Kernels = [(4, 16), (16, 4), (8, 8)];

    public static int Run(string[] args)
    {
        int threads = Memory.Option(args, "--threads", 2);
        int batch = Memory.Option(args, "--batch", 100);
        Experiments.Runtime.Native.TorchRuntime.Initialize(threads);
        Console.WriteLine(FormattableString.Invariant($"seed 002 operations, batch {batch}, {threads} threads; {Experiments.Runtime.Native.MachineInfo.CpuIdentity()}; ms per call"));
        Console.WriteLine($"{"operation",-44} {"nchw",8} {"nhwc",8}");
        manual_seed(0);
        double total = 0;
        foreach ((int channels, int size, int filters) in Stages)
        {
            foreach ((int kh, int kw) in Kernels)
            {
                int padH = kh - 1;
                int padW = kw - 1;
                long[] pad = [padW / 2, padW - (padW / 2), padH / 2, padH - (padH / 2)];
                string shape = FormattableString.Invariant($"{channels}->{filters} {kh}x{kw} on {size}x{size}");
                double[] forward = new double[2], backward = new double[2], weightsOnly = new double[2], padding = new double[2];
                for (int layout = 0; layout < 2; layout++)
                {
                    bool last = layout == 1;
                    using Tensor input = randn(batch, channels, size, size).Layout(last);
                    using Tensor weight = randn(filters, channels, kh, kw).Layout(last).requires_grad_();
                    using Tensor bias = zeros(filters).requires_grad_();
                    using Tensor padded = nn.functional.pad(input, pad).Layout(last);
                    using Tensor gradient = ones(batch, filters, size, size).Layout(last);
                    padding[layout] = Time(() => nn.functional.pad(input, pad).Dispose());
                    forward[layout] = Time(() =>
                    {
                        using var noGrad = no_grad();
                        nn.functional.conv2d(padded, weight, bias).Dispose();
                    });
                    weightsOnly[layout] = Time(() => Backward(padded, weight, bias, gradient));
                    using Tensor leaf = padded.detach().requires_grad_();
                    backward[layout] = Time(() => Backward(leaf, weight, bias, gradient));
                }

                Row($"pad       {shape}", padding);
                Row($"conv fwd  {shape}", forward);
                Row($"conv bwd weights {shape}", weightsOnly);
                Row($"conv bwd data    {shape}", [backward[0] - weightsOnly[0], backward[1] - weightsOnly[1]]);
                total += padding[0] + forward[0] + backward[0];
            }

            using Tensor branch = rand(batch, filters, size, size);
            using Tensor joined = cat(new[] { branch, branch, branch }, 1);
            double concatenate = Time(() => cat(new[] { branch, branch, branch }, 1).Dispose());
            double pool = Time(() => nn.functional.max_pool2d(joined, [2, 2], [2, 2]).Dispose());
            using Tensor pooled = nn.functional.max_pool2d(joined, [2, 2], [2, 2]);
            double normalise = Time(() => (pooled / (pooled.max() - pooled.min())).Dispose());
            Row(FormattableString.Invariant($"cat       3x{filters} on {size}x{size}"), [concatenate, double.NaN]);
            Row(FormattableString.Invariant($"max pool  {3 * filters} on {size}x{size}"), [pool, double.NaN]);
            Row(FormattableString.Invariant($"normalise {3 * filters} on {size / 2}x{size / 2}"), [normalise, double.NaN]);
            total += concatenate + pool + normalise;
        }

        Console.WriteLine(FormattableString.Invariant($"{"sum of the nchw rows (forward passes and the convolutions' backward)",-44} {total,8:F3} ms per batch: {batch / total * 1000:F0} images/s"));
        return 0;
    }

    /// <summary>
    /// Weight gradients three ways, in milliseconds per call (best of five rounds): LibTorch's (the backward of a
    /// convolution whose input takes no gradient, less its forward pass) in NCHW and channels-last; the batch as
    /// channels (one forward convolution of the images as channels with the output gradient as kernels, copies
    /// included: what the runtime's ImageWeightGradient does for one-channel inputs); and unfold plus a matrix product.
    /// Seed 002's nine convolutions, then seed 001's and other shapes. The last column is the largest difference from
    /// LibTorch's channels-last gradient. Usage: weightgrads [--threads 2] [--batch 100].
    /// </summary>
    public static int WeightGradients(string[] args)
    {
        int threads = Memory.Option(args, "--threads", 2);
        int batch = Memory.Option(args, "--batch", 100);
        Experiments.Runtime.Native.TorchRuntime.Initialize(threads);
        Console.WriteLine(FormattableString.Invariant($"weight gradients, batch {batch}, {threads} threads; {Experiments.Runtime.Native.MachineInfo.CpuIdentity()}; ms per call"));
        Console.WriteLine($"{"shape",-22} {"nchw",8} {"nhwc",8} {"batch nchw",10} {"batch nhwc",10} {"unfold",8} {"max diff",9}");
        manual_seed(0);
        var shapes = new List<(int Channels, int Size, int Filters, int Height, int Width)>();
        foreach ((int channels, int size, int filters) in Stages)
        {
            shapes.AddRange(Kernels.Select(k => (channels, size, filters, k.Height, k.Width)));
        }

        shapes.AddRange([(1, 28, 8, 4, 16), (1, 28, 8, 8, 8), (1, 28, 4, 5, 5), (1, 28, 8, 5, 5), (1, 28, 16, 5, 5), (1, 28, 32, 5, 5), (8, 14, 8, 5, 5), (16, 14, 16, 5, 5), (16, 14, 36, 5, 5)]);
        foreach ((int channels, int size, int filters, int kh, int kw) in shapes)
        {
            using var scope = NewDisposeScope();
            int padH = kh - 1, padW = kw - 1;
            Tensor padded = nn.functional.pad(randn(batch, channels, size, size), [padW / 2, padW - (padW / 2), padH / 2, padH - (padH / 2)]);
            Tensor gradient = randn(batch, filters, size, size);
            Tensor weight = randn(filters, channels, kh, kw);
            var libTorch = new double[2];
            Tensor reference = empty(0);
            for (int layout = 0; layout < 2; layout++)
            {
                bool last = layout == 1;
                Tensor input = padded.Layout(last), outputGradient = gradient.Layout(last), w = weight.Layout(last).detach().requires_grad_();
                double forward = Time(() =>
                {
                    using var noGrad = no_grad();
                    nn.functional.conv2d(input, w).Dispose();
                });
                Func<Tensor> backward = () =>
                {
                    using Tensor output = nn.functional.conv2d(input, w);
                    output.backward([outputGradient]);
                    Tensor result = w.grad!.clone();
                    w.grad!.zero_();
                    return result;
                };
                libTorch[layout] = Time(() => backward().Dispose()) - forward;
                reference = backward();
            }

            Func<bool, Tensor> batchAsChannels = last =>
            {
                using Tensor images = padded.transpose(0, 1).Layout(last);
                using Tensor kernels = gradient.transpose(0, 1).Layout(last);
                using Tensor correlation = nn.functional.conv2d(images, kernels);
                return correlation.transpose(0, 1).contiguous();
            };
            Func<Tensor> unfolded = () =>
            {
                using Tensor columns = padded.unfold(2, kh, 1).unfold(3, kw, 1).permute(0, 2, 3, 1, 4, 5).reshape(batch * size * size, channels * kh * kw);
                using Tensor rows = gradient.permute(0, 2, 3, 1).reshape(batch * size * size, filters);
                return rows.t().mm(columns).reshape(filters, channels, kh, kw);
            };
            double batchNchw = Time(() => batchAsChannels(false).Dispose());
            double batchNhwc = Time(() => batchAsChannels(true).Dispose());
            double unfold = Time(() => unfolded().Dispose());
            double difference = Math.Max((batchAsChannels(true) - reference).abs().max().item<float>(), (unfolded() - reference).abs().max().item<float>());
            string shape = FormattableString.Invariant($"{channels}->{filters} {kh}x{kw} on {size}");
            Console.WriteLine(FormattableString.Invariant($"{shape,-22} {libTorch[0],8:F3} {libTorch[1],8:F3} {batchNchw,10:F3} {batchNhwc,10:F3} {unfold,8:F3} {difference,9:E1}"));
        }

        return 0;
    }

    /// <summary>Channels-last as LibTorch defines it (NCHW shape, NHWC strides): TorchSharp 0.107 has no memory_format argument.</summary>
    private static Tensor Layout(this Tensor tensor, bool channelsLast) =>
        channelsLast ? tensor.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : tensor.contiguous();

    private static void Backward(Tensor input, Tensor weight, Tensor bias, Tensor gradient)
    {
        using Tensor output = nn.functional.conv2d(input, weight, bias);
        output.backward([gradient]);
        weight.grad?.zero_();
        bias.grad?.zero_();
        input.grad?.zero_();
    }

    private static void Row(string name, double[] milliseconds) =>
        Console.WriteLine(FormattableString.Invariant($"{name,-44} {milliseconds[0],8:F3} {(double.IsNaN(milliseconds[1]) ? "-" : milliseconds[1].ToString("F3", CultureInfo.InvariantCulture)),8}"));

    /// <summary>Milliseconds per call: the best of five rounds of 20 calls, after 5 calls of warm-up.</summary>
    private static double Time(Action call)
    {
        for (int i = 0; i < 5; i++)
        {
            using var scope = NewDisposeScope();
            call();
        }

        double best = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < 20; i++)
            {
                using var scope = NewDisposeScope();
                call();
            }

            best = Math.Min(best, clock.Elapsed.TotalMilliseconds / 20);
        }

        return best;
    }
}
