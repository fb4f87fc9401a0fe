using Experiments.Runtime;
using Experiments.Runtime.Snapshots;
using Xunit;

namespace Experiments.Generators.Tests;

/// <summary>
/// [Tolerance], [SeedTolerance] and [Reported] are read once, by the generator, into ExperimentInfo: the runtime
/// judges a result by what the compiled registry says, with no reflection over the user's classes.
/// </summary>
public sealed class DeclaredChecksTests
{
    private static string Declaration(string attributes, string sweep = "") => GeneratorHarness.Usings + $$"""
        namespace Demo;
        [Experiment("mlp", Dataset.Mnist, Input.Flat, Optimizer = Optimizer.Sgd, LearningRate = 0.01)]
        {{attributes}}
        {{sweep}}
        public sealed partial class Mlp
        {
            private static readonly Layer[] Layers = [new Dense(16, Activation.Relu), new Dense(10, Activation.Softmax)];
        }
        """;

    private const string Declared = """
        [Tolerance(Metric.TestAccuracy, 0.05)]
        [Tolerance(Metric.Confusion, 1e-3)]
        [SeedTolerance(Metric.TestAccuracy, Level = 0.9, OnlyWorseFails = true)]
        [SeedTolerance(Metric.TestLoss, Direction = Direction.HigherIsBetter)]
        [Reported(0.986, Completed = false, Source = "notebook \"3\", cell 12\tafter 5 epochs")]
        """;

    [Fact]
    public void Declared_checks_reach_ExperimentInfo_as_written_with_the_attributes_defaults()
    {
        IExperiment experiment = GeneratorHarness.Registry(Declaration(Declared)).Single();
        Tolerances tolerances = Tolerances.For(experiment);
        Assert.Equal(0.05, tolerances[Metric.TestAccuracy]);
        Assert.Equal(1e-3, tolerances[Metric.Confusion]);
        Assert.Equal(Tolerances.Default[Metric.TestLoss], tolerances[Metric.TestLoss]);

        Assert.Equal([new SeedCheck(Metric.TestAccuracy, 0.9, true, true), new SeedCheck(Metric.TestLoss, 0.99, true, false)], SeedCheck.For(experiment));

        ReportedAttribute reported = Assert.IsType<ReportedAttribute>(experiment.Info.Reported);
        Assert.Equal(0.986, reported.TestAccuracy);
        Assert.Equal(new ReportedAttribute(0.5).Margin, reported.Margin);
        Assert.False(reported.Completed);
        Assert.Equal("notebook \"3\", cell 12\tafter 5 epochs", reported.Source);
    }

    [Fact]
    public void Without_declarations_the_defaults_apply_and_checks_never_change_the_fingerprint()
    {
        IExperiment plain = GeneratorHarness.Registry(Declaration("")).Single();
        Assert.Empty(plain.Info.Tolerances);
        Assert.Null(plain.Info.Reported);
        Assert.Same(SeedCheck.Default, SeedCheck.For(plain));
        Assert.Equal(Tolerances.Default.ToString(), Tolerances.For(plain).ToString());

        // The checks judge a result; they are not what is trained.
        Assert.Equal(plain.Info.Fingerprint, GeneratorHarness.Registry(Declaration(Declared)).Single().Info.Fingerprint);
    }

    [Fact]
    public void Every_point_of_a_sweep_carries_its_declarations_checks()
    {
        IReadOnlyList<IExperiment> points = GeneratorHarness.Registry(Declaration(Declared, "[Sweep(nameof(ExperimentAttribute.LearningRate), 0.01, 0.1)]"));
        Assert.Equal(2, points.Count);
        Assert.All(points, p =>
        {
            Assert.Equal(0.05, Tolerances.For(p)[Metric.TestAccuracy]);
            Assert.Equal(2, SeedCheck.For(p).Count);
            Assert.Equal(0.986, p.Info.Reported?.TestAccuracy);
        });
    }
}
