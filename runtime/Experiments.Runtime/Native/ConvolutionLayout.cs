using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Runtime.Native;

/// <summary>
/// Marks a generated model whose forward pass starts with <see cref="ConvolutionLayout.Enter"/>: its convolutions run in
/// the layout <see cref="ConvolutionLayout"/> chooses, which the run's identity then records.
/// </summary>
public interface IConvolutionLayoutModel;

/// <summary>
/// The memory layout convolution models run in on the CPU. Channels-last (NHWC, Keras' own layout) is what oneDNN's
/// fast convolutions (brgemm, AVX2 and newer) and LibTorch's vectorised pooling are written for: with NCHW tensors every
/// convolution reorders its activations into a blocked layout and back, and max pooling runs scalar code. A 1-channel
/// image has the same bytes in both layouts, so entering costs a restride and no copy, and LibTorch keeps the layout
/// through the whole network from there (convolutions, activations, pooling, concatenation; Keras' flatten, which
/// is channels-last by definition, becomes a view).
/// <para>
/// The layout decides a convolution model's bits (another kernel, another summation order), so a run that uses
/// channels-last says so in its CPU identity (<see cref="IdentitySuffix"/>): a snapshot approved in the other layout
/// is then compared under tolerances, never exactly, and a checkpoint of one layout never resumes in the other.
/// NCHW stays where channels-last gains nothing or its bits are not measured to travel: under the portable kernel set
/// (oneDNN at SSE4.1, whose NCHW bits are the ones measured across CPU models; `dotnet test` pins it for the smoke
/// profile), with oneDNN off, on CPUs without AVX2, and on GPUs.
/// </para>
/// </summary>
public static class ConvolutionLayout
{
    /// <summary>EXPERIMENTS_CONV_LAYOUT: auto (default; see the class remarks), channels-last or nchw.</summary>
    public const string Variable = "EXPERIMENTS_CONV_LAYOUT";

    /// <summary>What a run in channels-last appends to its CPU identity.</summary>
    public const string IdentitySuffix = ", convolutions channels-last";

    /// <summary>Whether convolution models run channels-last on the CPU in this process (read at every call: cheap, and tests set it).</summary>
    public static bool ChannelsLast => Environment.GetEnvironmentVariable(Variable) switch
    {
        null or "" or "auto" => AutoChannelsLast(),
        "channels-last" => true,
        "nchw" => false,
        string other => throw new ArgumentException($"{Variable}={other}: use auto, channels-last or nchw."),
    };

    /// <summary>The CPU identity suffix of a run of <paramref name="model"/> on <paramref name="device"/>: empty unless it runs channels-last.</summary>
    public static string SuffixFor(object model, Device device) =>
        model is IConvolutionLayoutModel && device.type == DeviceType.CPU && ChannelsLast ? IdentitySuffix : "";

    /// <summary>
    /// The input of a generated convolution model, in the layout its convolutions run in: unchanged on GPUs, for NCHW and
    /// for anything but a 4-D image batch; restrided without a copy when it has one channel, else copied channels-last.
    /// </summary>
    public static Tensor Enter(Tensor input)
    {
        if (input.dim() != 4 || input.device_type != DeviceType.CPU || !ChannelsLast)
        {
            return input;
        }

        // LibTorch takes the strides literally to tell layouts apart, and a contiguous 1-channel NCHW tensor counts as NCHW;
        // the same bytes with channels-last strides (the channel stride 1, the column stride C) count as channels-last.
        return input.shape[1] == 1 && input.is_contiguous()
            ? input.as_strided(input.shape, [input.shape[2] * input.shape[3], 1, input.shape[3], 1], input.storage_offset())
            : ChannelsLastCopy(input);
    }

    /// <summary>A copy of a 4-D tensor in channels-last (NCHW shape, NHWC strides): TorchSharp has no memory_format argument.</summary>
    internal static Tensor ChannelsLastCopy(Tensor tensor) => tensor.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    /// <summary>
    /// A generated model's 2-D convolution: LibTorch's, except where <see cref="TakesImageWeightGradient"/> says the
    /// weight and bias gradients come from <see cref="ImageWeightGradient"/> (the forward pass is LibTorch's either way).
    /// </summary>
    public static Tensor Convolve(TorchSharp.Modules.Conv2d convolution, Tensor input) =>
        TakesImageWeightGradient(convolution, input)
            ? ImageWeightGradient.apply(input, convolution.weight!, convolution.bias, convolution.padding![0], convolution.padding[1])
            : convolution.call(input);

    /// <summary>
    /// Whether <see cref="Convolve"/> computes this call's weight gradient with the batch as channels: in channels-last on
    /// the CPU, training, for a stride-1 convolution with at most <see cref="ImageWeightGradient.MaximumFilters"/> filters
    /// over a one-channel input that takes no gradient (a model's first convolution on a grayscale image). oneDNN's
    /// channels-last weight-gradient kernels vectorise over input and output channels, which such a convolution leaves
    /// nearly empty: 5-10 ms per batch of 100 for each of seed 002's first convolutions against 1.5-3.5 ms this way
    /// (benchmark `weightgrads`). Such a convolution's module hooks do not run while training.
    /// </summary>
    public static bool TakesImageWeightGradient(TorchSharp.Modules.Conv2d convolution, Tensor input) =>
        input.dim() == 4 && input.shape[1] == 1 && !input.requires_grad && input.device_type == DeviceType.CPU
        && convolution.out_channels <= ImageWeightGradient.MaximumFilters && convolution.weight is { requires_grad: true }
        && convolution.groups == 1 && convolution.padding_mode == PaddingModes.Zeros && convolution.padding_type is null
        && convolution.padding is { Length: 2 } && convolution.stride.All(s => s == 1) && convolution.dilation.All(d => d == 1)
        && is_grad_enabled() && ChannelsLast;

    private static bool AutoChannelsLast()
    {
        // EXPERIMENTS_ONEDNN=off, as the runtime applied it when LibTorch loaded.
        if (!DeterministicAlgorithms.OneDnnEnabled)
        {
            return false;
        }

        // oneDNN's brgemm convolutions need AVX2; a pinned tier below it (the portable set's SSE41) keeps NCHW.
        string? tier = Environment.GetEnvironmentVariable("DNNL_MAX_CPU_ISA");
        bool tierAllows = string.IsNullOrEmpty(tier) || tier.StartsWith("AVX2", StringComparison.OrdinalIgnoreCase)
            || tier.StartsWith("AVX512", StringComparison.OrdinalIgnoreCase) || tier.StartsWith("AVX10", StringComparison.OrdinalIgnoreCase)
            || tier.StartsWith("AMX", StringComparison.OrdinalIgnoreCase) || string.Equals(tier, "ALL", StringComparison.OrdinalIgnoreCase);
        return tierAllows && CpuHasAvx2.Value;
    }

    private static readonly Lazy<bool> CpuHasAvx2 = new(() => MachineInfo.CpuFlags()?.Contains("avx2") == true);
}
