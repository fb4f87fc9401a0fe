using Experiments.Runtime;
using Experiments.Runtime.Native;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Experiments.Generators.Tests;

/// <summary>The generated catalog models: real TorchSharp modules whose parameters agree with their summaries and the notebooks.</summary>
public sealed class CatalogModelTests
{
    public static TheoryData<string> Names => new(Experiments.Catalog.ExperimentRegistry.All.Select(e => e.Info.Name));

    private static IExperiment Find(string name) => Experiments.Catalog.ExperimentRegistry.All.Single(e => e.Info.Name == name);

    private static long Const(IExperiment experiment, string name) => (long)experiment.GetType().GetField(name)!.GetValue(null)!;

    /// <summary>The classes the model tells apart: the user's data says, else the built-in dataset (iris 3, the others 10).</summary>
    internal static int Classes(IExperiment experiment) =>
        experiment.Info.Folder?.Classes ?? experiment.Info.Table?.Classes ?? (experiment.Info.Dataset == Dataset.Iris ? 3 : 10);

    [Theory]
    [MemberData(nameof(Names))]
    public void Summary_counts_equal_the_modules_real_parameters_and_a_training_step_runs(string name)
    {
        TorchRuntime.Initialize(2);
        IExperiment experiment = Find(name);
        using var module = experiment.CreateModel();
        var parameters = module.parameters().ToList();
        // The module's real trainable count against the plan's count by Keras' rules for each layer.
        Assert.Equal(Const(experiment, "KerasTrainableParameters"), parameters.Where(p => p.requires_grad).Sum(p => p.numel()));
        Assert.Equal(Const(experiment, "ModuleFrozenParameters"), parameters.Where(p => !p.requires_grad).Sum(p => p.numel()));
        Assert.Equal(Const(experiment, "ModuleBatchNormStatistics"), module.named_buffers().Where(b => b.name.EndsWith("running_mean", StringComparison.Ordinal) || b.name.EndsWith("running_var", StringComparison.Ordinal)).Sum(b => b.buffer.numel()));

        using var scope = torch.NewDisposeScope();
        long[] shape = [4, .. experiment.Settings.InputShape.Select(d => (long)d)];
        Tensor input = torch.rand(shape);
        Tensor logits = module.call(input);
        Assert.Equal([4L, Classes(experiment)], logits.shape);
        Tensor loss = nn.functional.cross_entropy(logits, torch.tensor(new long[] { 0, 1, 2, 0 }));
        loss.backward();
        Assert.All(parameters.Where(p => p.requires_grad), p => Assert.NotNull(p.grad));
        Assert.True(float.IsFinite(loss.item<float>()));
    }

    [Theory]
    [InlineData("mnist-lstm-256", 294_410, 0)]
    [InlineData("mnist-mlp-50-sgd", 39_760, 0)]
    [InlineData("mnist-cnn-16-16", 108_602, 0)]
    [InlineData("mnist-cnn-16-36", 242_062, 0)]
    [InlineData("mnist-lstm-50-sgd", 16_310, 0)]
    [InlineData("mnist-lstm-128-adam", 81_674, 0)]
    [InlineData("fashion-mlp-bn", 870_410, 3_072)]
    [InlineData("fashion-cnn-bn", 7_658_746, 1_208)]
    public void Summaries_equal_the_counts_the_notebooks_printed(string name, long total, long nonTrainable)
    {
        // Figures copied from the seed notebooks' model.summary() output: all eight summaries the notebooks printed.
        IExperiment experiment = Find(name);
        Assert.Contains($"Total params: {total:N0}", experiment.Info.Summary, StringComparison.Ordinal);
        Assert.Contains($"Non-trainable params: {nonTrainable:N0}", experiment.Info.Summary, StringComparison.Ordinal);
        Assert.Equal(total - nonTrainable, Const(experiment, "KerasTrainableParameters"));
    }
}
