using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Experiments.Generators.Models;
using Microsoft.CodeAnalysis;

namespace Experiments.Generators;

public sealed partial class ExperimentGenerator
{
    internal static partial class Parser
    {
        private const string ScheduleAttributeName = "Experiments.LearningRateScheduleAttribute";
        private const string PlateauAttributeName = "Experiments.ReduceLearningRateOnPlateauAttribute";
        private const string EarlyStoppingAttributeName = "Experiments.EarlyStoppingAttribute";

        /// <summary>The epoch metrics a control may monitor (the history's columns).</summary>
        private static readonly Metric[] EpochMetrics = { Metric.ValidationLoss, Metric.ValidationAccuracy, Metric.EpochLoss, Metric.EpochAccuracy };

        /// <summary>
        /// The class's [LearningRateSchedule], [ReduceLearningRateOnPlateau] and [EarlyStopping], each property not set
        /// taking the attribute's own default (an instance of the attribute is the one definition of them), every value
        /// checked as the runtime would check it, so that a bad one is a compile error at the attribute.
        /// </summary>
        private static TrainingControlsSpec Controls(INamedTypeSymbol type, string experiment, LocationInfo? classLocation, List<DiagnosticInfo> diagnostics)
        {
            ScheduleSpec? schedule = null;
            PlateauSpec? plateau = null;
            EarlyStoppingSpec? stopping = null;
            LocationInfo? scheduleLocation = null;
            foreach (AttributeData attribute in type.GetAttributes())
            {
                string? name = attribute.AttributeClass?.ToDisplayString();
                if (name is not (ScheduleAttributeName or PlateauAttributeName or EarlyStoppingAttributeName))
                {
                    continue;
                }

                LocationInfo? location = attribute.ApplicationSyntaxReference is { } reference ? Locate(reference.GetSyntax().GetLocation()) : classLocation;
                Dictionary<string, TypedConstant> arguments = Arguments(attribute);
                Dictionary<string, TypedConstant> named = attribute.NamedArguments.ToDictionary(a => a.Key, a => a.Value, System.StringComparer.Ordinal);
                string label = "[" + name!.Substring("Experiments.".Length, name.Length - "Experiments.".Length - "Attribute".Length) + "]";
                bool bad = false;
                void OutOfRange(bool problem, string what, string value, string fix)
                {
                    if (problem)
                    {
                        bad = true;
                        diagnostics.Add(Diagnostic(DiagnosticDescriptors.OutOfRange, location, experiment, $"{label} {what}", value, fix));
                    }
                }

                double Double(string property, double fallback) => named.TryGetValue(property, out TypedConstant v) ? System.Convert.ToDouble(v.Value, CultureInfo.InvariantCulture) : fallback;
                int Int(string property, int fallback) => named.TryGetValue(property, out TypedConstant v) && v.Value is int n ? n : fallback;
                bool Bool(string property, bool fallback) => named.TryGetValue(property, out TypedConstant v) && v.Value is bool b ? b : fallback;
                T? Member<T>(string argument)
                    where T : struct
                {
                    if (!arguments.TryGetValue(argument, out TypedConstant value))
                    {
                        return null;
                    }

                    T? member = DeclaredEnum<T>(value, location, experiment, $"{label} {typeof(T).Name}", diagnostics);
                    bad |= member is null;
                    return member;
                }

                Metric? Monitor()
                {
                    Metric? monitor = Member<Metric>("monitor");
                    OutOfRange(monitor is { } m && !EpochMetrics.Contains(m), "monitor", $"Metric.{monitor}", "a control monitors an epoch metric: " + string.Join(", ", EpochMetrics.Select(e => "Metric." + e)));
                    return monitor;
                }

                if (name == ScheduleAttributeName)
                {
                    var defaults = new LearningRateScheduleAttribute(Schedule.Cosine);
                    if (Member<Schedule>("schedule") is not { } kind)
                    {
                        continue;
                    }

                    int[] boundaries = named.TryGetValue("Boundaries", out TypedConstant b) && !b.IsNull ? b.Values.Select(v => (int)v.Value!).ToArray() : defaults.Boundaries;
                    double[] values = named.TryGetValue("Values", out TypedConstant vs) && !vs.IsNull ? vs.Values.Select(v => System.Convert.ToDouble(v.Value, CultureInfo.InvariantCulture)).ToArray() : defaults.Values;
                    var spec = new ScheduleSpec(
                        kind, Double("DecayRate", defaults.DecayRate), Int("DecaySteps", defaults.DecaySteps), Bool("Staircase", defaults.Staircase),
                        Int("StepEpochs", defaults.StepEpochs), Double("Gamma", defaults.Gamma), Int("WarmupEpochs", defaults.WarmupEpochs), Double("Alpha", defaults.Alpha),
                        EquatableArray.From(boundaries), EquatableArray.From(values));
                    switch (kind)
                    {
                        case Schedule.Exponential:
                            OutOfRange(spec.DecaySteps <= 0, "DecaySteps", Value(spec.DecaySteps), "an exponential schedule needs DecaySteps of at least 1, e.g. 1000");
                            OutOfRange(!(spec.DecayRate > 0 && spec.DecayRate <= 1), "DecayRate", Value(spec.DecayRate), "an exponential schedule needs a DecayRate in (0, 1], e.g. 0.96");
                            break;
                        case Schedule.Step:
                            OutOfRange(spec.StepEpochs <= 0, "StepEpochs", Value(spec.StepEpochs), "a step schedule needs StepEpochs of at least 1, e.g. 10");
                            OutOfRange(!(spec.Gamma > 0 && spec.Gamma <= 1), "Gamma", Value(spec.Gamma), "a step schedule needs a Gamma in (0, 1], e.g. 0.1");
                            break;
                        case Schedule.Cosine:
                            OutOfRange(spec.WarmupEpochs < 0, "WarmupEpochs", Value(spec.WarmupEpochs), "use 0 (no warmup) or more epochs");
                            OutOfRange(!(spec.Alpha >= 0 && spec.Alpha <= 1), "Alpha", Value(spec.Alpha), "alpha is the final rate as a fraction of the declared one, in [0, 1]");
                            break;
                        default:
                            OutOfRange(boundaries.Length == 0 || values.Length != boundaries.Length + 1, "Values", $"{values.Length} values for {boundaries.Length} boundaries",
                                "a piecewise schedule needs at least one boundary and one value more than boundaries, e.g. Boundaries = new[] { 1000 }, Values = new[] { 0.01, 0.001 }");
                            OutOfRange(boundaries.Length > 0 && (boundaries[0] < 0 || boundaries.Zip(boundaries.Skip(1), (x, y) => y <= x).Any(d => d)), "Boundaries", $"[{string.Join(", ", boundaries)}]",
                                "boundaries are increasing optimizer step counts from 0");
                            OutOfRange(values.Any(v => !(v > 0) || double.IsInfinity(v)), "Values", $"[{string.Join(", ", values.Select(v => Value(v)))}]", "every value is a positive learning rate");
                            break;
                    }

                    if (!bad)
                    {
                        (schedule, scheduleLocation) = (spec, location);
                    }
                }
                else if (name == PlateauAttributeName)
                {
                    var defaults = new ReduceLearningRateOnPlateauAttribute(Metric.ValidationLoss);
                    Metric? monitor = Monitor();
                    var spec = new PlateauSpec(monitor ?? Metric.ValidationLoss, Double("Factor", defaults.Factor), Int("Patience", defaults.Patience), Double("MinDelta", defaults.MinDelta),
                        Int("Cooldown", defaults.Cooldown), Double("MinLearningRate", defaults.MinLearningRate));
                    OutOfRange(!(spec.Factor > 0 && spec.Factor < 1), "Factor", Value(spec.Factor), "the rate is multiplied by a factor strictly between 0 and 1, e.g. 0.5");
                    OutOfRange(spec.Patience < 0, "Patience", Value(spec.Patience), "use 0 or more epochs");
                    OutOfRange(!(spec.MinDelta >= 0) || double.IsInfinity(spec.MinDelta), "MinDelta", Value(spec.MinDelta), "use a finite change of 0 or more, e.g. 1e-4");
                    OutOfRange(spec.Cooldown < 0, "Cooldown", Value(spec.Cooldown), "use 0 or more epochs");
                    OutOfRange(!(spec.MinLearningRate >= 0) || double.IsInfinity(spec.MinLearningRate), "MinLearningRate", Value(spec.MinLearningRate), "use a finite rate of 0 or more, e.g. 1e-5");
                    plateau = bad || monitor is null ? plateau : spec;
                }
                else
                {
                    var defaults = new EarlyStoppingAttribute(Metric.ValidationLoss);
                    Metric? monitor = Monitor();
                    var spec = new EarlyStoppingSpec(monitor ?? Metric.ValidationLoss, Int("Patience", defaults.Patience), Double("MinDelta", defaults.MinDelta),
                        Bool("RestoreBestWeights", defaults.RestoreBestWeights), Int("StartFromEpoch", defaults.StartFromEpoch));
                    OutOfRange(spec.Patience < 0, "Patience", Value(spec.Patience), "use 0 or more epochs");
                    OutOfRange(!(spec.MinDelta >= 0) || double.IsInfinity(spec.MinDelta), "MinDelta", Value(spec.MinDelta), "use a finite change of 0 or more");
                    OutOfRange(spec.StartFromEpoch < 0, "StartFromEpoch", Value(spec.StartFromEpoch), "use 0 or more epochs");
                    stopping = bad || monitor is null ? stopping : spec;
                }
            }

            if (schedule is not null && plateau is not null)
            {
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.BadTrainingControl, scheduleLocation, experiment,
                    "[LearningRateSchedule] and [ReduceLearningRateOnPlateau] both set the learning rate", "declare one of them (Keras does not combine them either)"));
                plateau = null;
            }

            return new TrainingControlsSpec(schedule, plateau, stopping);
        }
    }
}
