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

        Tensor logits = model.call(rand(4, 1, 28, 28));
        Assert.Equal([4L, 10], logits.shape);
        Assert.Equal(18, strides.Count);
        Assert.All(strides, stride => Assert.Equal(1L, stride));
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
