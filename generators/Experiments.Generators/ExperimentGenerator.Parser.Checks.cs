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
        private const string ToleranceAttributeName = "Experiments.ToleranceAttribute";
        private const string SeedToleranceAttributeName = "Experiments.SeedToleranceAttribute";
        private const string ReportedAttributeName = "Experiments.ReportedAttribute";

        /// <summary>The final metrics a seed distribution is compared on (as SeedToleranceAttribute accepts them).</summary>
        private static readonly Metric[] FinalMetrics = { Metric.TestAccuracy, Metric.TestLoss, Metric.TrainAccuracy, Metric.TrainLoss };

        /// <summary>
        /// The class's [Tolerance], [SeedTolerance] and [Reported] attributes, checked as their constructors and setters
        /// would check them at run time, so that a bad value is a compile error with its location instead.
        /// </summary>
        private static DeclaredChecks Checks(INamedTypeSymbol type, string experiment, LocationInfo? classLocation, List<DiagnosticInfo> diagnostics)
        {
            var tolerances = new List<ToleranceSpec>();
            var seedTolerances = new List<SeedToleranceSpec>();
            ReportedSpec? reported = null;
            foreach (AttributeData attribute in type.GetAttributes())
            {
                string? name = attribute.AttributeClass?.ToDisplayString();
                if (name is not (ToleranceAttributeName or SeedToleranceAttributeName or ReportedAttributeName))
                {
                    continue;
                }

                LocationInfo? location = attribute.ApplicationSyntaxReference is { } reference ? Locate(reference.GetSyntax().GetLocation()) : classLocation;
                Dictionary<string, TypedConstant> arguments = Arguments(attribute);
                Dictionary<string, TypedConstant> named = attribute.NamedArguments.ToDictionary(a => a.Key, a => a.Value, System.StringComparer.Ordinal);
                void OutOfRange(string what, string value, string fix) => diagnostics.Add(Diagnostic(DiagnosticDescriptors.OutOfRange, location, experiment, what, value, fix));
                Metric? DeclaredMetric(string attributeLabel) =>
                    arguments.TryGetValue("metric", out TypedConstant metric) ? DeclaredEnum<Metric>(metric, location, experiment, attributeLabel + " Metric", diagnostics) : null;

                if (name == ToleranceAttributeName)
                {
                    Metric? declared = DeclaredMetric("[Tolerance]");
                    double absolute = arguments.TryGetValue("absolute", out TypedConstant a) ? System.Convert.ToDouble(a.Value, CultureInfo.InvariantCulture) : 0;
                    if (declared is not { } metric)
                    {
                        continue;
                    }

                    if (!(absolute >= 0) || double.IsInfinity(absolute))
                    {
                        OutOfRange($"[Tolerance({metric})]", $"tolerance {Value(absolute)}", "a tolerance is a finite absolute difference >= 0, e.g. 0.01 for a point of accuracy");
                    }
                    else if (tolerances.Any(t => t.Metric == metric))
                    {
                        diagnostics.Add(Diagnostic(DiagnosticDescriptors.DeclaredTwice, location, experiment, $"[Tolerance({metric}, ...)]", "give each metric one [Tolerance]"));
                    }
                    else
                    {
                        tolerances.Add(new ToleranceSpec(metric, absolute));
                    }
                }
                else if (name == SeedToleranceAttributeName)
                {
                    Metric? declared = DeclaredMetric("[SeedTolerance]");
                    if (declared is not { } metric)
                    {
                        continue;
                    }

                    double? level = named.TryGetValue("Level", out TypedConstant l) ? System.Convert.ToDouble(l.Value, CultureInfo.InvariantCulture) : null;
                    Direction? direction = null;
                    if (named.TryGetValue("Direction", out TypedConstant d))
                    {
                        direction = DeclaredEnum<Direction>(d, location, experiment, $"[SeedTolerance({metric})] Direction", diagnostics);
                        if (direction is null)
                        {
                            continue;
                        }
                    }

                    bool? onlyWorse = named.TryGetValue("OnlyWorseFails", out TypedConstant o) && o.Value is bool b ? b : null;
                    if (!FinalMetrics.Contains(metric))
                    {
                        OutOfRange("[SeedTolerance]", $"metric {metric}", $"seed distributions are compared on the final metrics: {string.Join(", ", FinalMetrics.Select(m => "Metric." + m))}");
                    }
                    else if (level is { } x && !(x > 0 && x < 1))
                    {
                        OutOfRange($"[SeedTolerance({metric})]", $"Level {Value(x)}", "a confidence level lies strictly between 0 and 1, e.g. 0.99");
                    }
                    else if (seedTolerances.Any(t => t.Metric == metric))
                    {
                        diagnostics.Add(Diagnostic(DiagnosticDescriptors.DeclaredTwice, location, experiment, $"[SeedTolerance({metric})]", "give each metric one [SeedTolerance]"));
                    }
                    else
                    {
                        seedTolerances.Add(new SeedToleranceSpec(metric, level, direction, onlyWorse));
                    }
                }
                else
                {
                    double accuracy = arguments.TryGetValue("testAccuracy", out TypedConstant t) ? System.Convert.ToDouble(t.Value, CultureInfo.InvariantCulture) : 0;
                    double? margin = named.TryGetValue("Margin", out TypedConstant m) ? System.Convert.ToDouble(m.Value, CultureInfo.InvariantCulture) : null;
                    bool? completed = named.TryGetValue("Completed", out TypedConstant c) && c.Value is bool done ? done : null;
                    string? source = named.TryGetValue("Source", out TypedConstant s) ? s.Value as string ?? "" : null;
                    if (!(accuracy >= 0 && accuracy <= 1))
                    {
                        OutOfRange("[Reported]", $"accuracy {Value(accuracy)}", "a reported accuracy is a fraction between 0 and 1 (98.6% is 0.986)");
                    }
                    else if (margin is { } x && (!(x >= 0) || double.IsInfinity(x)))
                    {
                        OutOfRange("[Reported]", $"Margin {Value(x)}", "a margin is a finite absolute difference >= 0, e.g. 0.01 for a point of accuracy");
                    }
                    else
                    {
                        reported = new ReportedSpec(accuracy, margin, completed, source);
                    }
                }
            }

            return new DeclaredChecks(EquatableArray.From(tolerances), EquatableArray.From(seedTolerances), reported);
        }
    }
}
