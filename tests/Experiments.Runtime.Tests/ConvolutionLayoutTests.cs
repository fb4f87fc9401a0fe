using Experiments.Runtime.Native;
using Experiments.Runtime.Snapshots;
using Experiments.Runtime.Training;
using Xunit;
using static TorchSharp.torch;

namespace Experiments.Runtime.Tests;

/// <summary>These tests set EXPERIMENTS_CONV_LAYOUT and oneDNN's tier in this process, so nothing else may train beside them.</summary>
[CollectionDefinition(nameof(ConvolutionLayoutTests), DisableParallelization = true)]
public sealed class ConvolutionLayoutCollection;

/// <summary>
/// Generated convolution models run channels-last where oneDNN's fast kernels do, NCHW under the portable kernel set and
/// when asked, and a run's identity says which, so a snapshot of one layout never compares exactly with the other.
/// </summary>
[Collection(nameof(ConvolutionLayoutTests))]
public sealed class ConvolutionLayoutTests
{
    private static readonly RunOptions Small = new() { Threads = 2, TrainLimit = 600, TestLimit = 300, MaxEpochs = 1, Profile = "test" };

    public ConvolutionLayoutTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Entering_restrides_a_one_channel_batch_without_copying_and_copies_others_channels_last()
    {
        using var _ = TestEnvironment.Variables(("EXPERIMENTS_CONV_LAYOUT", "channels-last"));
        using var scope = NewDisposeScope();
        Tensor gray = rand(3, 1, 5, 7);
        Tensor entered = ConvolutionLayout.Enter(gray);
        Assert.Equal([35L, 1, 7, 1], entered.stride());
        Assert.True(eq(gray, entered).all().item<bool>());
        Tensor before = gray.clone();
        entered.add_(1); // the same storage: the batch sees it
        Assert.True(eq(gray, before + 1).all().item<bool>());

        Tensor colour = rand(2, 3, 4, 5);
        Tensor copied = ConvolutionLayout.Enter(colour);
        Assert.Equal([60L, 1, 15, 3], copied.stride());
        Assert.True(eq(colour, copied).all().item<bool>());

        Tensor rows = rand(4, 10);
        Assert.Equal(rows.stride(), ConvolutionLayout.Enter(rows).stride());
    }

    [Fact]
    public void The_portable_tier_oneDNN_off_and_nchw_keep_the_input_as_it_is()
    {
        using var scope = NewDisposeScope();
        Tensor gray = rand(3, 1, 5, 7);
        using (TestEnvironment.Variables(("EXPERIMENTS_CONV_LAYOUT", "nchw")))
        {
            Assert.False(ConvolutionLayout.ChannelsLast);
            Assert.Equal([35L, 35, 7, 1], ConvolutionLayout.Enter(gray).stride());
        }

        using (TestEnvironment.Variables(("EXPERIMENTS_CONV_LAYOUT", null), ("DNNL_MAX_CPU_ISA", "SSE41")))
        {
            Assert.False(ConvolutionLayout.ChannelsLast);
        }

        using (TestEnvironment.Variables(("EXPERIMENTS_CONV_LAYOUT", "auto")))
        {
            DeterministicAlgorithms.SetOneDnn(false); // what EXPERIMENTS_ONEDNN=off does when LibTorch loads
            try
            {
                Assert.False(ConvolutionLayout.ChannelsLast);
            }
            finally
            {
                DeterministicAlgorithms.SetOneDnn(true);
            }
        }

        using (TestEnvironment.Variables(("EXPERIMENTS_CONV_LAYOUT", null), ("DNNL_MAX_CPU_ISA", null)))
        {
            Assert.Equal(MachineInfo.CpuFlags()?.Contains("avx2") == true, ConvolutionLayout.ChannelsLast);
        }

        using (TestEnvironment.Variables(("EXPERIMENTS_CONV_LAYOUT", "nhwc")))
        {
            ArgumentException error = Assert.Throws<ArgumentException>(() => ConvolutionLayout.ChannelsLast);
            Assert.Contains("EXPERIMENTS_CONV_LAYOUT=nhwc", error.Message, StringComparison.Ordinal);
            Assert.Contains("channels-last or nchw", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_generated_model_keeps_channels_last_through_its_convolutions_and_pooling()
    {
        using var _ = TestEnvironment.Variables(("EXPERIMENTS_CONV_LAYOUT", "channels-last"));
        using var scope = NewDisposeScope();
        using nn.Module<Tensor, Tensor> model = new Experiments.Catalog.MnistBranches2().CreateModel();
        var strides = new List<long>();
        foreach (TorchSharp.Modules.Conv2d convolution in model.modules().OfType<TorchSharp.Modules.Conv2d>())
        {
            convolution.register_forward_hook((_, input, output) =>
            {
                strides.Add(input.stride(1));
                strides.Add(output.stride(1));
                return output;
            });
        }

        // Evaluation: every convolution through its module (training takes the first three's weight gradients apart).
        using var noGrad = no_grad();
        Tensor logits = model.call(rand(4, 1, 28, 28));
        Assert.Equal([4L, 10], logits.shape);
        Assert.Equal(18, strides.Count);
        Assert.All(strides, stride => Assert.Equal(1L, stride));
    }

    [Fact]
    public void A_first_convolution_with_few_filters_takes_its_weight_gradient_with_the_batch_as_channels()
    {
        using var _ = TestEnvironment.Variables(("EXPERIMENTS_CONV_LAYOUT", "channels-last"));
        using var scope = NewDisposeScope();
        manual_seed(5);
        using var convolution = nn.Conv2d(1, 4, (4, 16), padding: (1, 3));
        Tensor images = ConvolutionLayout.Enter(rand(16, 1, 20, 28));
        Tensor outputGradient = randn(16, 4, 19, 19);
        Assert.True(ConvolutionLayout.TakesImageWeightGradient(convolution, images));

        (Tensor output, Tensor weight, Tensor bias) batched = Gradients(convolution, images, outputGradient, ConvolutionLayout.Convolve);
        (Tensor output, Tensor weight, Tensor bias) again = Gradients(convolution, images, outputGradient, ConvolutionLayout.Convolve);
        (Tensor output, Tensor weight, Tensor bias) libTorch = Gradients(convolution, images, outputGradient, (c, x) => c.call(x));

        // LibTorch's forward pass; the same gradients up to summation order, and the same bits every time.
        Assert.True(Same(batched.output, libTorch.output));
        Assert.True(batched.weight.allclose(libTorch.weight, rtol: 1e-4, atol: 1e-4));
        Assert.True(batched.bias.allclose(libTorch.bias, rtol: 1e-4, atol: 1e-4));
        Assert.False(Same(batched.weight, libTorch.weight)); // another algorithm: its own bits
        Assert.True(Same(batched.weight, again.weight) && Same(batched.bias, again.bias));

        // Everything else goes through the module: an input that takes a gradient, two channels, 16 filters, stride 2,
        // evaluation, and NCHW.
        Assert.False(ConvolutionLayout.TakesImageWeightGradient(convolution, images.detach().requires_grad_()));
        using (var colour = nn.Conv2d(2, 4, 3))
        {
            Assert.False(ConvolutionLayout.TakesImageWeightGradient(colour, ConvolutionLayout.Enter(rand(2, 2, 8, 8))));
        }

        using (var wide = nn.Conv2d(1, 16, 3))
        using (var strided = nn.Conv2d(1, 4, 3, stride: 2))
        {
            Assert.False(ConvolutionLayout.TakesImageWeightGradient(wide, images));
            Assert.False(ConvolutionLayout.TakesImageWeightGradient(strided, images));
        }

        using (no_grad())
        {
            Assert.False(ConvolutionLayout.TakesImageWeightGradient(convolution, images));
        }

        using (TestEnvironment.Variables(("EXPERIMENTS_CONV_LAYOUT", "nchw")))
        {
            Assert.False(ConvolutionLayout.TakesImageWeightGradient(convolution, images));
            (Tensor output, Tensor weight, Tensor bias) nchw = Gradients(convolution, images, outputGradient, ConvolutionLayout.Convolve);
            (Tensor output, Tensor weight, Tensor bias) module = Gradients(convolution, images, outputGradient, (c, x) => c.call(x));
            Assert.True(Same(nchw.weight, module.weight) && Same(nchw.bias, module.bias));
        }
    }

    [Fact]
    public void A_branch_model_trains_channels_last_to_finite_loss_and_the_same_bits_twice()
    {
        // Under the poisoned allocator (.ci/run) a convolution that read memory nobody wrote turns this loss to NaN.
        using var _ = TestEnvironment.Variables(("EXPERIMENTS_CONV_LAYOUT", "channels-last"));
        var experiment = new Experiments.Catalog.MnistBranches2();
        ExperimentResult first = ExperimentRunner.Run(experiment, Small);
        ExperimentResult second = ExperimentRunner.Run(experiment, Small);
        Assert.Null(first.Diverged);
        Assert.All(first.History, epoch => Assert.True(double.IsFinite(epoch.Loss), $"loss {epoch.Loss}"));
        Assert.NotEmpty(first.WeightsSha256);
        Assert.Equal(first.WeightsSha256, second.WeightsSha256);
        SnapshotComparison comparison = SnapshotComparison.Compare(SnapshotDocument.From(first), SnapshotDocument.From(second), Tolerances.Default);
        Assert.Equal(ComparisonMode.Exact, comparison.Mode);
        Assert.True(comparison.Matches, comparison.Describe());
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && eq(a, b).all().item<bool>();

    private static (Tensor Output, Tensor Weight, Tensor Bias) Gradients(
        TorchSharp.Modules.Conv2d convolution, Tensor input, Tensor outputGradient, Func<TorchSharp.Modules.Conv2d, Tensor, Tensor> convolve)
    {
        convolution.zero_grad();
        Tensor output = convolve(convolution, input);
        output.backward([outputGradient]);
        return (output.detach(), convolution.weight!.grad!.clone(), convolution.bias!.grad!.clone());
    }

    [Fact]
    public void The_identity_names_the_layout_and_a_snapshot_of_the_other_layout_compares_under_tolerances()
    {
        var experiment = new Experiments.Catalog.MnistCnn1616();
        ExperimentResult last, first;
        using (TestEnvironment.Variables(("EXPERIMENTS_CONV_LAYOUT", "channels-last")))
        {
            last = ExperimentRunner.Run(experiment, Small);
        }

        using (TestEnvironment.Variables(("EXPERIMENTS_CONV_LAYOUT", "nchw")))
        {
            first = ExperimentRunner.Run(experiment, Small);
        }

        Assert.EndsWith(ConvolutionLayout.IdentitySuffix, last.Identity.Environment.DeviceName, StringComparison.Ordinal);
        Assert.Equal(MachineInfo.CpuIdentity(), first.Identity.Environment.DeviceName);
        Assert.NotEqual(last.Identity.ResumeKey(), first.Identity.ResumeKey());
        SnapshotComparison comparison = SnapshotComparison.Compare(SnapshotDocument.From(first), SnapshotDocument.From(last), Tolerances.Default);
        Assert.Equal(ComparisonMode.Tolerance, comparison.Mode);
        Assert.Contains("convolutions channels-last", comparison.Describe(), StringComparison.Ordinal);

        // A model without convolutions is the same run in either setting.
        using (TestEnvironment.Variables(("EXPERIMENTS_CONV_LAYOUT", "channels-last")))
        {
            ExperimentResult mlp = ExperimentRunner.Run(new Experiments.Catalog.MnistMlp50Sgd(), Small);
            Assert.Equal(MachineInfo.CpuIdentity(), mlp.Identity.Environment.DeviceName);
        }
    }
}
