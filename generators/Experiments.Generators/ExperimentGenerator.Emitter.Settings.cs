using System.Collections.Generic;
using System.Linq;
using Experiments.Generators.Models;

namespace Experiments.Generators;

public sealed partial class ExperimentGenerator
{
    /// <summary>The expressions of ExperimentInfo's and TrainingSettings' arguments and initializers.</summary>
    internal static partial class Emitter
    {
        /// <summary>
        /// The declaration's [Tolerance], [SeedTolerance] and [Reported] attributes as ExperimentInfo initializers: the
        /// same attribute objects, built with the arguments the user wrote (so their defaults stay defined in one place,
        /// the attribute), read by the runtime without reflection.
        /// </summary>
        private static IEnumerable<string> Checks(DeclaredChecks checks)
        {
            const string Api = "global::Experiments";
            if (checks.Tolerances.Count > 0)
            {
                yield return $"Tolerances = new {Api}.ToleranceAttribute[] {{ {string.Join(", ", checks.Tolerances.Select(t => $"new({Api}.Metric.{t.Metric}, {Planner.Number(t.Absolute)})"))} }},";
            }

            if (checks.SeedTolerances.Count > 0)
            {
                yield return $"SeedTolerances = new {Api}.SeedToleranceAttribute[] {{ {string.Join(", ", checks.SeedTolerances.Select(t => $"new({Api}.Metric.{t.Metric}){Named(("Level", t.Level is { } l ? Planner.Number(l) : null), ("Direction", t.Direction is { } d ? $"{Api}.Direction.{d}" : null), ("OnlyWorseFails", Bool(t.OnlyWorseFails)))}"))} }},";
            }

            if (checks.Reported is { } r)
            {
                yield return $"Reported = new {Api}.ReportedAttribute({Planner.Number(r.TestAccuracy)}){Named(("Margin", r.Margin is { } m ? Planner.Number(m) : null), ("Completed", Bool(r.Completed)), ("Source", r.Source is { } source ? Literal(source) : null))},";
            }
        }

        /// <summary>An object initializer of the properties that were set, or nothing.</summary>
        private static string Named(params (string Name, string? Value)[] properties)
        {
            string[] set = properties.Where(p => p.Value is not null).Select(p => $"{p.Name} = {p.Value}").ToArray();
            return set.Length == 0 ? "" : " { " + string.Join(", ", set) + " }";
        }

        private static string? Bool(bool? value) => value is { } b ? (b ? "true" : "false") : null;

        /// <summary>The TrainingSettings initializers of the declared controls, every argument written out.</summary>
        private static IEnumerable<string> ControlInitializers(TrainingControlsSpec controls)
        {
            const string Training = Runtime + ".Training";
            if (controls.Schedule is { } c)
            {
                string factory = c.Kind switch
                {
                    Schedule.Exponential => $"Exponential(decayRate: {Planner.Number(c.DecayRate)}, decaySteps: {c.DecaySteps}, staircase: {(c.Staircase ? "true" : "false")})",
                    Schedule.Step => $"Step(stepEpochs: {c.StepEpochs}, gamma: {Planner.Number(c.Gamma)})",
                    Schedule.Cosine => $"Cosine(warmupEpochs: {c.WarmupEpochs}, alpha: {Planner.Number(c.Alpha)})",
                    _ => $"Piecewise(new int[] {{ {string.Join(", ", c.Boundaries)} }}, new double[] {{ {string.Join(", ", c.Values.Select(Planner.Number))} }})",
                };
                yield return $"Schedule = {Training}.LearningRateSchedule.{factory},";
            }

            if (controls.Plateau is { } p)
            {
                yield return $"Plateau = new {Training}.PlateauSettings(global::Experiments.Metric.{p.Monitor}, factor: {Planner.Number(p.Factor)}, patience: {p.Patience}, " +
                    $"minDelta: {Planner.Number(p.MinDelta)}, cooldown: {p.Cooldown}, minLearningRate: {Planner.Number(p.MinLearningRate)}),";
            }

            if (controls.EarlyStopping is { } e)
            {
                yield return $"EarlyStopping = new {Training}.EarlyStoppingSettings(global::Experiments.Metric.{e.Monitor}, patience: {e.Patience}, " +
                    $"minDelta: {Planner.Number(e.MinDelta)}, restoreBestWeights: {(e.RestoreBestWeights ? "true" : "false")}, startFromEpoch: {e.StartFromEpoch}),";
            }
        }

        private static string Arguments(params string[] arguments) => string.Join(", ", arguments.Where(a => a.Length > 0));

        private static string OptimizerExpression(ExperimentSettings settings)
        {
            const string type = Runtime + ".Training.OptimizerSettings";
            string lr = settings.LearningRate > 0 ? $"learningRate: {Planner.Number(settings.LearningRate)}" : "";
            return settings.Optimizer switch
            {
                Optimizer.Sgd => $"{type}.Sgd({Arguments(lr, settings.Momentum > 0 ? $"momentum: {Planner.Number(settings.Momentum)}" : "", settings.Nesterov ? "nesterov: true" : "")})",
                Optimizer.Adam => $"{type}.Adam({lr})",
                Optimizer.AdamW => $"{type}.AdamW({Arguments(lr, settings.WeightDecay > 0 ? $"weightDecay: {Planner.Number(settings.WeightDecay)}" : "")})",
                Optimizer.Adagrad => $"{type}.Adagrad({lr})",
                Optimizer.Adamax => $"{type}.Adamax({lr})",
                Optimizer.Nadam => $"{type}.Nadam({lr})",
                Optimizer.Adadelta => $"{type}.Adadelta({lr})",
                _ => $"{type}.RmsProp({lr})",
            };
        }

        private static string ValidationExpression(ExperimentSettings settings)
        {
            const string type = Runtime + ".Data.ValidationSpec";
            return settings.Validation switch
            {
                Validation.TestSet => $"{type}.TestSet",
                Validation.KerasTail => $"{type}.KerasTail({Planner.Number(settings.ValidationFraction)})",
                Validation.Seeded => $"{type}.Seeded({Planner.Number(settings.ValidationFraction)})",
                _ => $"{type}.None",
            };
        }

        private static string AugmentationExpression(AugmentationDecl a)
        {
            const string type = Runtime + ".Training.Augmentation";
            return a.Kind switch
            {
                LayerKind.RandomFlip => $"{type}.RandomFlip(global::Experiments.Layers.FlipMode.{a.Flip})",
                LayerKind.RandomTranslation => $"{type}.RandomTranslation({Planner.Number(a.Factor)}, {Planner.Number(a.FactorWidth)})",
                LayerKind.RandomRotation => $"{type}.RandomRotation({Planner.Number(a.Factor)})",
                _ => double.IsNaN(a.FactorWidth) ? $"{type}.RandomZoom({Planner.Number(a.Factor)})" : $"{type}.RandomZoom({Planner.Number(a.Factor)}, {Planner.Number(a.FactorWidth)})",
            };
        }

        /// <summary>Keras' average over the pixels inside the image, where 'same' pads one more pixel at the bottom or right: the padded sums over the padded counts.</summary>
        private static string AveragePadded(PaddedAveragePoolStep step)
        {
            string v = step.Variable;
            string window = $"new long[] {{ {step.KernelHeight}, {step.KernelWidth} }}, new long[] {{ {step.StrideHeight}, {step.StrideWidth} }}";
            string pad = $"new long[] {{ {step.Left}, {step.Right}, {step.Top}, {step.Bottom} }}";
            return $"{v} = nn.functional.avg_pool2d(nn.functional.pad({v}, {pad}), {window}).div(nn.functional.avg_pool2d(nn.functional.pad(torch.ones(1, 1, {v}.shape[2], {v}.shape[3], dtype: {v}.dtype, device: {v}.device), {pad}), {window}));";
        }
    }
}
