using System.Globalization;
using Experiments.Runtime;
using Microsoft.CodeAnalysis;
using Xunit;

namespace Experiments.Generators.Tests;

/// <summary>[Sweep]: each point an experiment of its own, named from its parameters, checked at compile time.</summary>
public sealed class SweepTests
{
    private static string Declaration(string sweeps, string settings = "") => GeneratorHarness.Usings + $$"""
        namespace Demo;
        [Experiment("mlp", Dataset.Mnist, Input.Flat, Optimizer = Optimizer.Sgd, LearningRate = 0.01{{settings}})]
        {{sweeps}}
        public sealed partial class Mlp
        {
            private static readonly Layer[] Layers = [new Dense(16, Activation.Relu), new Dense(10, Activation.Softmax)];
        }
        """;

    [Fact]
    public void Each_point_is_a_registered_experiment_named_from_its_parameters_in_product_order()
    {
        IReadOnlyList<IExperiment> registry = GeneratorHarness.Registry(Declaration(
            "[Sweep(nameof(ExperimentAttribute.LearningRate), 0.01, 0.1)]\n[Sweep(nameof(ExperimentAttribute.Optimizer), Optimizer.Sgd, Optimizer.RmsProp)]"));
        Assert.Equal(
            ["mlp@learning_rate=0.01,optimizer=sgd", "mlp@learning_rate=0.01,optimizer=rms_prop", "mlp@learning_rate=0.1,optimizer=sgd", "mlp@learning_rate=0.1,optimizer=rms_prop"],
            registry.Select(e => e.Info.Name));
        Assert.DoesNotContain(registry, e => e.Info.Name == "mlp");

        IExperiment point = registry.Single(e => e.Info.Name == "mlp@learning_rate=0.1,optimizer=rms_prop");
        Assert.Equal("mlp", point.Info.Sweep);
        Assert.Equal([new SweepParameter("learning_rate", "0.1"), new SweepParameter("optimizer", "rms_prop")], point.Info.SweepParameters);
        Assert.Equal(Experiments.Optimizer.RmsProp, point.Settings.Optimizer.Kind);
        Assert.Equal(0.1, point.Settings.Optimizer.LearningRate);

        // Every point has its own fingerprint, and each is stable: the same declaration gives the same ones.
        Assert.Equal(4, registry.Select(e => e.Info.Fingerprint).Distinct().Count());
        Assert.Equal(registry.Select(e => e.Info.Fingerprint), GeneratorHarness.Registry(Declaration(
            "[Sweep(nameof(ExperimentAttribute.LearningRate), 0.01, 0.1)]\n[Sweep(nameof(ExperimentAttribute.Optimizer), Optimizer.Sgd, Optimizer.RmsProp)]")).Select(e => e.Info.Fingerprint));
    }

    [Fact]
    public void Whole_numbers_are_taken_for_numbers_and_sweeps_cover_integers_and_flags()
    {
        IReadOnlyList<IExperiment> registry = GeneratorHarness.Registry(Declaration(
            "[Sweep(nameof(ExperimentAttribute.LearningRate), 1)]\n[Sweep(nameof(ExperimentAttribute.BatchSize), 16, 64)]\n[Sweep(nameof(ExperimentAttribute.Tf32), true)]"));
        Assert.Equal(["mlp@learning_rate=1,batch_size=16,tf32=true", "mlp@learning_rate=1,batch_size=64,tf32=true"], registry.Select(e => e.Info.Name));
        Assert.Equal([16, 64], registry.Select(e => e.Settings.BatchSize));
    }

    [Fact]
    public void Declared_seeds_reach_the_registry_and_do_not_change_the_fingerprint()
    {
        IExperiment one = GeneratorHarness.Registry(Declaration("")).Single();
        IExperiment five = GeneratorHarness.Registry(Declaration("", settings: ", Seeds = 5")).Single();
        Assert.Equal(1, one.Info.Seeds);
        Assert.Equal(5, five.Info.Seeds);
        Assert.Equal(one.Info.Fingerprint, five.Info.Fingerprint);
    }

    public static TheoryData<string, string, string> Bad => new()
    {
        { "[Sweep(\"LerningRate\", 0.1)]", "'LerningRate' cannot be swept; sweep one of Dataset, Input, Optimizer, LearningRate", "Sweep(\"LerningRate\", 0.1)" },
        { "[Sweep(nameof(ExperimentAttribute.Description), \"a\")]", "'Description' cannot be swept", "Sweep(nameof(ExperimentAttribute.Description), \"a\")" },
        { "[Sweep(nameof(ExperimentAttribute.LearningRate), Optimizer.Adam)]", "LearningRate takes a number, not Optimizer.Adam; give values of LearningRate's type", "Sweep(nameof(ExperimentAttribute.LearningRate), Optimizer.Adam)" },
        { "[Sweep(nameof(ExperimentAttribute.BatchSize), 0.5)]", "BatchSize takes a whole number, not 0.5 (double)", "Sweep(nameof(ExperimentAttribute.BatchSize), 0.5)" },
        { "[Sweep(nameof(ExperimentAttribute.Optimizer), \"adam\")]", "Optimizer takes a Optimizer value such as Optimizer.Sgd, not \"adam\"", "Sweep(nameof(ExperimentAttribute.Optimizer), \"adam\")" },
        { "[Sweep(nameof(ExperimentAttribute.Epochs))]", "the sweep over 'Epochs' has no values", "Sweep(nameof(ExperimentAttribute.Epochs))" },
        { "[Sweep(nameof(ExperimentAttribute.Epochs), 1)]\n[Sweep(nameof(ExperimentAttribute.Epochs), 2)]", "'Epochs' is swept twice", "Sweep(nameof(ExperimentAttribute.Epochs), 2)" },
        { "[Sweep(nameof(ExperimentAttribute.LearningRate), 0.1, 0.10)]", "points 1 and 2 are both 'mlp@learning_rate=0.1'; list each value once", "Mlp" },
    };

    [Theory]
    [MemberData(nameof(Bad))]
    public void A_sweep_that_cannot_be_expanded_is_EXP0020(string sweeps, string message, string locatedAt)
    {
        string source = Declaration(sweeps);
        var (generator, _, _) = GeneratorHarness.Run(source);
        Diagnostic diagnostic = Assert.Single(generator, d => d.Id == "EXP0020");
        Assert.Contains(message, diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Equal(locatedAt, source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
    }

    [Fact]
    public void A_point_out_of_range_is_EXP0013_naming_the_point()
    {
        var (generator, _, _) = GeneratorHarness.Run(Declaration("[Sweep(nameof(ExperimentAttribute.Momentum), 0.5, 1.5)]"));
        Diagnostic diagnostic = Assert.Single(generator);
        Assert.Equal("EXP0013", diagnostic.Id);
        Assert.Contains("Experiment 'mlp@momentum=1.5', Momentum: 1.5 is out of range", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void A_sweep_and_an_experiment_of_the_same_name_are_EXP0004()
    {
        string other = GeneratorHarness.Usings + """
            namespace Demo;
            [Experiment("mlp", Dataset.Mnist, Input.Flat)]
            public sealed partial class Other
            {
                private static readonly Layer[] Layers = [new Dense(10, Activation.Softmax)];
            }
            """;
        var (generator, _, _) = GeneratorHarness.Run(Declaration("[Sweep(nameof(ExperimentAttribute.Epochs), 1, 2)]"), other);
        Diagnostic diagnostic = Assert.Single(generator);
        Assert.Equal("EXP0004", diagnostic.Id);
        Assert.Contains("Experiment name 'mlp' is used by both global::Demo.Mlp and global::Demo.Other", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }
}
