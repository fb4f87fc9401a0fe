using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Experiments.Generators.Models;

namespace Experiments.Generators;

public sealed partial class ExperimentGenerator
{
    /// <summary>
    /// The cached stage after parsing: checks the settings, infers shapes, and plans each experiment of a declaration
    /// (one, or a sweep's points) into modules, forward steps, counts, summary and fingerprint. Values only, no C#:
    /// the emitter prints what this decides.
    /// </summary>
    internal static class Planner
    {
        public static ExperimentModel Plan(ExperimentSpec spec)
        {
            try
            {
                return PlanDeclaration(spec);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return Model(spec, new List<PlannedExperiment>(), new List<DiagnosticInfo> { Parser.InternalError(spec.Location, spec.Name, e) });
            }
        }

        private static ExperimentModel Model(ExperimentSpec spec, List<PlannedExperiment> experiments, List<DiagnosticInfo> diagnostics) =>
            new(spec.Namespace, spec.ClassName, spec.Name, spec.IsSweep, EquatableArray.From(diagnostics.Count == 0 ? experiments : new List<PlannedExperiment>()), EquatableArray.From(diagnostics), spec.Location)
            {
                Checks = spec.Checks,
                Controls = spec.Controls,
            };

        private static ExperimentModel PlanDeclaration(ExperimentSpec spec)
        {
            // Report every problem of a declaration at once, as the compiler does: problems the parser found that leave
            // the settings and layers whole (the class not partial, a bad name, a custom layer's method, a check's value)
            // do not stop the settings and the layers from being checked too. The others leave nothing sound to plan.
            if (spec.Diagnostics.Any(d => !PlanDespite.Contains(d.Descriptor)))
            {
                return Model(spec, new List<PlannedExperiment>(), spec.Diagnostics.ToList());
            }

            IEnumerable<SweepPoint> points = spec.IsSweep ? spec.Points : new[] { new SweepPoint(spec.Name, default, spec.Settings) };
            var experiments = new List<PlannedExperiment>();
            var diagnostics = new List<DiagnosticInfo>(spec.Diagnostics);
            void Add(IEnumerable<DiagnosticInfo> found)
            {
                // A sweep's points share their layers: a problem at one place is reported once, for the first point.
                diagnostics.AddRange(found.Where(d => !diagnostics.Any(e => e.Descriptor == d.Descriptor && Equals(e.Location, d.Location))));
            }

            foreach (SweepPoint point in points)
            {
                Add(CheckSettings(point.Name, point.Settings, spec.Location));
                Add(CheckControls(point.Name, point.Settings, spec.Controls, spec.Location));
                var walk = new ModelWalk(point.Name, point.Settings, spec.Layers, spec.Location);
                Add(walk.Diagnostics);
                if (diagnostics.Count > 0)
                {
                    continue;
                }

                experiments.Add(new PlannedExperiment(
                    point.Name,
                    Fingerprint(point.Name, point.Settings, spec.Layers, spec.Controls),
                    Summary(point.Name, walk),
                    point.Settings,
                    point.Parameters,
                    walk.KerasTrainable,
                    walk.KerasNonTrainable,
                    walk.FrozenExtra,
                    EquatableArray.From(walk.Modules),
                    EquatableArray.From(walk.Forward))
                {
                    Augmentations = EquatableArray.From(walk.Augmentations),
                    Classes = walk.Classes,
                    Penalties = EquatableArray.From(walk.Penalties),
                });
            }

            return Model(spec, experiments, diagnostics);
        }

        /// <summary>Parser problems after which the settings and layers are still checked: each leaves them as declared.</summary>
        private static readonly DiagnosticDescriptor[] PlanDespite =
        {
            DiagnosticDescriptors.NotPartial, DiagnosticDescriptors.BadFunction, DiagnosticDescriptors.OutOfRange, DiagnosticDescriptors.BadName, DiagnosticDescriptors.DeclaredTwice,
            DiagnosticDescriptors.BadTrainingControl,
        };

        /// <summary>What a control needs of the settings: validation data to monitor, epochs after a warmup or a start.</summary>
        private static List<DiagnosticInfo> CheckControls(string name, ExperimentSettings settings, TrainingControlsSpec controls, LocationInfo? location)
        {
            var problems = new List<DiagnosticInfo>();
            void Needs(bool bad, string what, string fix)
            {
                if (bad)
                {
                    problems.Add(Parser.Diagnostic(DiagnosticDescriptors.BadTrainingControl, location, name, what, fix));
                }
            }

            bool validation = settings.Validation != Validation.None;
            foreach ((string control, Metric? monitor) in new[] { ("[ReduceLearningRateOnPlateau]", controls.Plateau?.Monitor), ("[EarlyStopping]", controls.EarlyStopping?.Monitor) })
            {
                Needs(monitor is Metric.ValidationLoss or Metric.ValidationAccuracy && !validation, $"{control} monitors Metric.{monitor} but the experiment has no validation data",
                    "declare Validation = Validation.Seeded with a ValidationFraction (or Validation.TestSet), or monitor Metric.EpochLoss");
            }

            Needs(controls.Schedule is { Kind: Schedule.Cosine, WarmupEpochs: var warmup } && warmup >= settings.Epochs, $"[LearningRateSchedule] warms up for {controls.Schedule?.WarmupEpochs} of {settings.Epochs} epochs",
                "use fewer warmup epochs than the run has");
            Needs(controls.EarlyStopping is { StartFromEpoch: var start } && start >= settings.Epochs, $"[EarlyStopping] starts at epoch {controls.EarlyStopping?.StartFromEpoch} of {settings.Epochs}",
                "use a StartFromEpoch below the run's epochs");
            return problems;
        }

        private static List<DiagnosticInfo> CheckSettings(string name, ExperimentSettings settings, LocationInfo? location)
        {
            var problems = new List<DiagnosticInfo>();
            void Range(bool bad, string what, string value, string fix)
            {
                if (bad)
                {
                    problems.Add(Parser.Diagnostic(DiagnosticDescriptors.OutOfRange, location, name, what, value, fix));
                }
            }

            Range(settings.LearningRate < 0 || double.IsNaN(settings.LearningRate), "LearningRate", Number(settings.LearningRate), "use a positive learning rate, or leave it out for the optimizer's Keras default");
            Range(settings.BatchSize <= 0, "BatchSize", settings.BatchSize.ToString(CultureInfo.InvariantCulture), "use at least 1 (Keras' default is 32)");
            Range(settings.Epochs <= 0, "Epochs", settings.Epochs.ToString(CultureInfo.InvariantCulture), "use at least 1");
            Range(settings.Seeds <= 0, "Seeds", settings.Seeds.ToString(CultureInfo.InvariantCulture), "use at least 1 (1 runs the declared Seed once)");
            Range(settings.Momentum < 0 || settings.Momentum >= 1, "Momentum", Number(settings.Momentum), "momentum lies in [0, 1)");
            Range(settings.Momentum > 0 && settings.Optimizer != Optimizer.Sgd, "Momentum", Number(settings.Momentum), "momentum is SGD's: use Optimizer = Optimizer.Sgd");
            Range(settings.Nesterov && (settings.Optimizer != Optimizer.Sgd || settings.Momentum == 0), "Nesterov", "true", "Nesterov momentum is SGD's and needs Momentum above 0, e.g. 0.9");
            Range(settings.WeightDecay < 0 || settings.WeightDecay >= 1 || double.IsNaN(settings.WeightDecay), "WeightDecay", Number(settings.WeightDecay), "a weight decay lies in [0, 1); 0 uses AdamW's Keras default 0.004");
            Range(settings.LabelSmoothing < 0 || settings.LabelSmoothing >= 1 || double.IsNaN(settings.LabelSmoothing), "LabelSmoothing", Number(settings.LabelSmoothing), "label smoothing lies in [0, 1), e.g. 0.1");
            Range(settings.LabelSmoothing > 0 && settings.Loss != Loss.CategoricalCrossEntropy, "LabelSmoothing", Number(settings.LabelSmoothing), "label smoothing applies to Loss.CategoricalCrossEntropy");
            Range(settings.WeightDecay > 0 && settings.Optimizer != Optimizer.AdamW, "WeightDecay", Number(settings.WeightDecay), "decoupled weight decay is AdamW's: use Optimizer = Optimizer.AdamW");
            bool needsFraction = settings.Validation is Validation.KerasTail or Validation.Seeded;
            Range(needsFraction && (settings.ValidationFraction <= 0 || settings.ValidationFraction >= 1), "ValidationFraction", Number(settings.ValidationFraction), "a validation fraction lies strictly between 0 and 1, e.g. 0.2");
            Range(!needsFraction && settings.ValidationFraction != 0, "ValidationFraction", Number(settings.ValidationFraction), "a fraction needs Validation = Validation.KerasTail or Validation.Seeded");
            return problems;
        }

        /// <summary>The Keras-style summary text.</summary>
        private static string Summary(string name, ModelWalk walk)
        {
            var s = new StringBuilder();
            string rule = new('_', 65);
            s.Append("Model: \"").Append(name).Append("\"\n").Append(rule).Append('\n');
            s.Append(" Layer (type)                Output Shape              Param #\n");
            s.Append(new string('=', 65)).Append('\n');
            foreach (SummaryRow row in walk.Rows)
            {
                string label = new string(' ', row.Depth * 2) + $"{row.Name} ({row.Type})";
                s.Append(' ').Append(label.Length >= 28 ? label + " " : label.PadRight(28)).Append(row.Shape.PadRight(26)).Append(Count(row.Parameters)).Append('\n');
            }

            s.Append(new string('=', 65)).Append('\n');
            s.Append("Total params: ").Append(Count(walk.KerasTrainable + walk.KerasNonTrainable)).Append('\n');
            s.Append("Trainable params: ").Append(Count(walk.KerasTrainable)).Append('\n');
            s.Append("Non-trainable params: ").Append(Count(walk.KerasNonTrainable)).Append('\n');
            s.Append(rule);
            if (walk.FrozenExtra > 0)
            {
                s.Append('\n').Append("TorchSharp module: also holds ").Append(Count(walk.FrozenExtra))
                    .Append(" frozen zeros (the recurrent bias_hh Keras does not have; the sum of the two biases is Keras' bias)");
            }

            return s.ToString();
        }

        /// <summary>
        /// FNV-1a-64 over a canonical text of everything that shapes the model or its training. Enum values enter as
        /// their numbers, as they always have (changing the text would change every approved fingerprint). A Function
        /// enters by its method name only: code is not part of the declaration's fingerprint.
        /// </summary>
        internal static string Fingerprint(string name, ExperimentSettings settings, EquatableArray<LayerSpec> layers, TrainingControlsSpec? controls = null)
        {
            var canonical = new StringBuilder();
            canonical.Append(string.Join("|", name, (int)settings.Dataset, (int)settings.Input, (int)settings.Optimizer, Number(settings.LearningRate), Number(settings.Momentum),
                (int)settings.Loss, settings.BatchSize, settings.Epochs, (int)settings.Validation, Number(settings.ValidationFraction), settings.Seed));

            // Appended only when set, so that declarations without it keep the fingerprints they had before it existed.
            if (settings.Tf32)
            {
                canonical.Append("|tf32");
            }

            if (settings.Nesterov)
            {
                canonical.Append("|nesterov");
            }

            if (settings.LabelSmoothing > 0)
            {
                canonical.Append("|label_smoothing:").Append(Number(settings.LabelSmoothing));
            }

            if (settings.WeightDecay > 0)
            {
                canonical.Append("|weight_decay:").Append(Number(settings.WeightDecay));
            }

            if (settings.DeclaredSize)
            {
                // The folder's path is where the data is, not what it is: the dataset's content hash identifies it.
                canonical.Append("|image_folder:").Append(string.Join(",", settings.ImageHeight, settings.ImageWidth, settings.Channels == 0 ? 1 : settings.Channels,
                    Number(settings.TestFraction == 0 ? 0.2 : settings.TestFraction), settings.Resize));
            }

            if (settings.Dataset is Dataset.Digits or Dataset.Iris && settings.TestFraction != 0)
            {
                canonical.Append("|test_fraction:").Append(Number(settings.TestFraction));
            }

            if (settings.Dataset == Dataset.Csv)
            {
                // The file's path is where the data is, not what it is: the table's content hash identifies it.
                canonical.Append("|csv:").Append(string.Join(",", settings.Features, settings.LabelColumn, settings.CsvHeader, Number(settings.TestFraction == 0 ? 0.2 : settings.TestFraction)));
            }

            if (controls?.Schedule is { } s)
            {
                canonical.Append("|schedule:").Append(string.Join(",", (int)s.Kind, Number(s.DecayRate), s.DecaySteps, s.Staircase, s.StepEpochs, Number(s.Gamma), s.WarmupEpochs, Number(s.Alpha),
                    string.Join(" ", s.Boundaries), string.Join(" ", s.Values.Select(Number))));
            }

            if (controls?.Plateau is { } p)
            {
                canonical.Append("|plateau:").Append(string.Join(",", (int)p.Monitor, Number(p.Factor), p.Patience, Number(p.MinDelta), p.Cooldown, Number(p.MinLearningRate)));
            }

            if (controls?.EarlyStopping is { } e)
            {
                canonical.Append("|early_stopping:").Append(string.Join(",", (int)e.Monitor, e.Patience, Number(e.MinDelta), e.RestoreBestWeights, e.StartFromEpoch));
            }

            foreach (LayerSpec layer in layers)
            {
                AppendLayer(canonical, layer);
            }

            ulong hash = 0xcbf29ce484222325UL;
            foreach (byte b in Encoding.UTF8.GetBytes(canonical.ToString()))
            {
                hash = unchecked((hash ^ b) * 0x100000001b3UL);
            }

            return hash.ToString("x16", CultureInfo.InvariantCulture);
        }

        private static void AppendLayer(StringBuilder canonical, LayerSpec layer)
        {
            canonical.Append(';').Append(string.Join(",", layer.Kind, layer.Units, layer.KernelHeight, layer.KernelWidth, layer.StrideHeight, layer.StrideWidth,
                (int)layer.Padding, (int)layer.Activation, Number(layer.Rate), layer.Axis, layer.Method));

            // The arguments of the later layer kinds, appended only when one is set: earlier layers keep their fingerprints.
            if (layer.Factor != 0 || layer.FactorWidth != 0 || layer.Flip != FlipMode.HorizontalAndVertical || layer.Shape.Count > 0)
            {
                canonical.Append('|').Append(string.Join(",", Number(layer.Factor), Number(layer.FactorWidth), (int)layer.Flip, string.Join(" ", layer.Shape)));
            }

            if (layer.ReturnSequences)
            {
                canonical.Append("|sequences");
            }

            if (layer.L1 != 0 || layer.L2 != 0)
            {
                canonical.Append("|l1l2:").Append(Number(layer.L1)).Append(',').Append(Number(layer.L2));
            }

            canonical.Append('[');
            foreach (LayerSpec child in layer.Children)
            {
                AppendLayer(canonical, child);
            }

            canonical.Append(']');
        }

        internal static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

        private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
    }
}
