using System.Text.RegularExpressions;
using Xunit;

namespace Experiments.Generators.Tests;

/// <summary>Schedules, plateau and early stopping reach the emitted settings in full and the fingerprint only when declared.</summary>
public sealed class TrainingControlsTests
{
    private static string Declaration(string attributes) => GeneratorHarness.Usings + $$"""
        namespace Ctl;
        {{attributes}}
        [Experiment("ctl", Dataset.FashionMnist, Input.Image, Epochs = 12, Validation = Validation.Seeded, ValidationFraction = 0.1)]
        public sealed partial class Ctl
        {
            private static readonly Layer[] Layers = [new Conv2D(4, 3), new Flatten(), new Dense(10, Activation.Softmax)];
        }
        """;

    private static (string Source, string Fingerprint) Generate(string attributes)
    {
        var (generator, sources, compiler) = GeneratorHarness.Run(Declaration(attributes));
        Assert.Empty(generator);
        Assert.Empty(compiler);
        string source = sources.Single(s => s.HintName == "Ctl.Ctl.g.cs").SourceText.ToString().ReplaceLineEndings("\n");
        Match fingerprint = Regex.Match(source, @"Dataset\.FashionMnist,\s*""([0-9a-f]+)""");
        Assert.True(fingerprint.Success, source);
        return (source, fingerprint.Groups[1].Value);
    }

    [Fact]
    public void Declared_controls_are_emitted_with_every_default_written_out()
    {
        (string source, _) = Generate("[LearningRateSchedule(Schedule.Cosine, WarmupEpochs = 2)]\n[EarlyStopping(Metric.ValidationLoss, Patience = 3, RestoreBestWeights = true)]");
        Assert.Contains("Schedule = global::Experiments.Runtime.Training.LearningRateSchedule.Cosine(warmupEpochs: 2, alpha: 0),", source, StringComparison.Ordinal);
        Assert.Contains("EarlyStopping = new global::Experiments.Runtime.Training.EarlyStoppingSettings(global::Experiments.Metric.ValidationLoss, patience: 3, minDelta: 0, restoreBestWeights: true, startFromEpoch: 0),", source, StringComparison.Ordinal);

        // The attribute's own defaults (Keras': factor 0.1, patience 10, min_delta 1e-4), read from an instance of it.
        (string plateau, _) = Generate("[ReduceLearningRateOnPlateau(Metric.ValidationAccuracy)]");
        Assert.Contains("Plateau = new global::Experiments.Runtime.Training.PlateauSettings(global::Experiments.Metric.ValidationAccuracy, factor: 0.1, patience: 10, minDelta: 0.0001, cooldown: 0, minLearningRate: 0),", plateau, StringComparison.Ordinal);

        (string piecewise, _) = Generate("[LearningRateSchedule(Schedule.Piecewise, Boundaries = new[] { 100, 200 }, Values = new[] { 0.01, 0.005, 1e-5 })]");
        Assert.Contains("LearningRateSchedule.Piecewise(new int[] { 100, 200 }, new double[] { 0.01, 0.005, 1E-05 }),", piecewise, StringComparison.Ordinal);
    }

    [Fact]
    public void Controls_enter_the_fingerprint_only_when_declared()
    {
        (string plain, string none) = Generate("");
        (_, string cosine) = Generate("[LearningRateSchedule(Schedule.Cosine)]");
        (_, string warm) = Generate("[LearningRateSchedule(Schedule.Cosine, WarmupEpochs = 1)]");
        (_, string stopping) = Generate("[EarlyStopping(Metric.ValidationLoss)]");
        (_, string restoring) = Generate("[EarlyStopping(Metric.ValidationLoss, RestoreBestWeights = true)]");
        Assert.Equal(5, new[] { none, cosine, warm, stopping, restoring }.Distinct().Count());
        Assert.DoesNotContain("Schedule =", plain, StringComparison.Ordinal);
        Assert.DoesNotContain("EarlyStopping =", plain, StringComparison.Ordinal);

        // The fingerprint without controls is the one it always was (the canonical text gains nothing).
        Assert.Equal(none, Generate("[Tolerance(Metric.TestAccuracy, 0.01)]").Fingerprint);
    }

    [Fact]
    public void The_newer_optimizers_are_emitted_with_their_arguments_and_fingerprinted()
    {
        static string Optimizer(string settings)
        {
            string source = GeneratorHarness.Usings + $$"""
                namespace Opt;
                [Experiment("opt", Dataset.Mnist, Input.Flat{{settings}})]
                public sealed partial class Opt
                {
                    private static readonly Layer[] Layers = [new Dense(10, Activation.Softmax)];
                }
                """;
            var (generator, sources, compiler) = GeneratorHarness.Run(source);
            Assert.Empty(generator);
            Assert.Empty(compiler);
            return sources.Single(s => s.HintName == "Opt.Opt.g.cs").SourceText.ToString();
        }

        Assert.Contains("optimizer: global::Experiments.Runtime.Training.OptimizerSettings.AdamW(learningRate: 0.002, weightDecay: 0.01),", Optimizer(", Optimizer = Optimizer.AdamW, LearningRate = 0.002, WeightDecay = 0.01"), StringComparison.Ordinal);
        Assert.Contains("optimizer: global::Experiments.Runtime.Training.OptimizerSettings.AdamW(),", Optimizer(", Optimizer = Optimizer.AdamW"), StringComparison.Ordinal);
        Assert.Contains("OptimizerSettings.Sgd(momentum: 0.9, nesterov: true),", Optimizer(", Optimizer = Optimizer.Sgd, Momentum = 0.9, Nesterov = true"), StringComparison.Ordinal);
        Assert.Contains("OptimizerSettings.Adagrad(),", Optimizer(", Optimizer = Optimizer.Adagrad"), StringComparison.Ordinal);
        Assert.Contains("OptimizerSettings.Adamax(learningRate: 0.002),", Optimizer(", Optimizer = Optimizer.Adamax, LearningRate = 0.002"), StringComparison.Ordinal);

        Assert.Contains("seed: 1)\n    {\n        LabelSmoothing = 0.1,\n    };", Optimizer(", LabelSmoothing = 0.1, Seed = 1").ReplaceLineEndings("\n"), StringComparison.Ordinal);

        string Fingerprint(string settings) => Regex.Match(Optimizer(settings), @"Dataset\.Mnist,\s*""([0-9a-f]+)""").Groups[1].Value;
        Assert.NotEqual(Fingerprint(", Optimizer = Optimizer.Sgd, Momentum = 0.9"), Fingerprint(", Optimizer = Optimizer.Sgd, Momentum = 0.9, Nesterov = true"));
        Assert.NotEqual(Fingerprint(", Optimizer = Optimizer.AdamW"), Fingerprint(", Optimizer = Optimizer.AdamW, WeightDecay = 0.01"));
        Assert.NotEqual(Fingerprint(""), Fingerprint(", LabelSmoothing = 0.1"));
    }
}
