using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using Experiments.Generators.Models;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Experiments.Generators;

public sealed partial class ExperimentGenerator
{
    internal static partial class Parser
    {
        public const string SweepAttributeName = "Experiments.SweepAttribute";

        private const int MaxSweepPoints = 1000;

        /// <summary>
        /// Sets one [Experiment] argument by its property name. Null when it applied; otherwise what is wrong (an
        /// unknown name, or a value of the wrong type). Enums are matched by member name.
        /// </summary>
        internal static string? Apply(ExperimentSettings settings, string property, TypedConstant value, out ExperimentSettings updated)
        {
            updated = settings;
            object? raw = value.Value;
            string? member = value.Type?.TypeKind == TypeKind.Enum ? MemberName(value.Type, raw) : null;
            string? Enum<T>(System.Func<T, ExperimentSettings> set, out ExperimentSettings result)
                where T : struct
            {
                result = settings;
                string enumName = typeof(T).Name;
                if (value.Type?.ToDisplayString() != typeof(T).FullName || member is null || !System.Enum.TryParse(member, out T kind))
                {
                    return $"{property} takes a {enumName} value such as {enumName}.{System.Enum.GetNames(typeof(T))[0]}, not {Describe(value)}";
                }

                result = set(kind);
                return null;
            }

            string? Number(System.Func<double, ExperimentSettings> set, out ExperimentSettings result)
            {
                result = settings;
                if (raw is not (double or float or int or long) || value.Type?.TypeKind == TypeKind.Enum)
                {
                    return $"{property} takes a number, not {Describe(value)}";
                }

                result = set(System.Convert.ToDouble(raw, CultureInfo.InvariantCulture));
                return null;
            }

            string? Integer(System.Func<long, ExperimentSettings> set, bool narrow, out ExperimentSettings result)
            {
                result = settings;
                if (raw is not (int or long) || value.Type?.TypeKind == TypeKind.Enum || (narrow && raw is long))
                {
                    return $"{property} takes a whole number, not {Describe(value)}";
                }

                result = set(System.Convert.ToInt64(raw, CultureInfo.InvariantCulture));
                return null;
            }

            switch (property)
            {
                case "Dataset": return Enum<Dataset>(v => settings with { Dataset = v }, out updated);
                case "Input": return Enum<Input>(v => settings with { Input = v }, out updated);
                case "Optimizer": return Enum<Optimizer>(v => settings with { Optimizer = v }, out updated);
                case "Loss": return Enum<Loss>(v => settings with { Loss = v }, out updated);
                case "Validation": return Enum<Validation>(v => settings with { Validation = v }, out updated);
                case "LearningRate": return Number(v => settings with { LearningRate = v }, out updated);
                case "Momentum": return Number(v => settings with { Momentum = v }, out updated);
                case "WeightDecay": return Number(v => settings with { WeightDecay = v }, out updated);
                case "LabelSmoothing": return Number(v => settings with { LabelSmoothing = v }, out updated);
                case "ValidationFraction": return Number(v => settings with { ValidationFraction = v }, out updated);
                case "BatchSize": return Integer(v => settings with { BatchSize = (int)v }, narrow: true, out updated);
                case "Epochs": return Integer(v => settings with { Epochs = (int)v }, narrow: true, out updated);
                case "Seed": return Integer(v => settings with { Seed = v }, narrow: false, out updated);
                case "Seeds": return Integer(v => settings with { Seeds = (int)v }, narrow: true, out updated);
                case "Tf32":
                case "Nesterov":
                    if (raw is not bool flag)
                    {
                        return $"{property} takes true or false, not {Describe(value)}";
                    }

                    updated = property == "Tf32" ? settings with { Tf32 = flag } : settings with { Nesterov = flag };
                    return null;
                case "ImageHeight": return Integer(v => settings with { ImageHeight = (int)v }, narrow: true, out updated);
                case "ImageWidth": return Integer(v => settings with { ImageWidth = (int)v }, narrow: true, out updated);
                case "Channels": return Integer(v => settings with { Channels = (int)v }, narrow: true, out updated);
                case "TestFraction": return Number(v => settings with { TestFraction = v }, out updated);
                case "Resize":
                    if (raw is not bool resize)
                    {
                        return $"{property} takes true or false, not {Describe(value)}";
                    }

                    updated = settings with { Resize = resize };
                    return null;
                case "Features": return Integer(v => settings with { Features = (int)v }, narrow: true, out updated);
                case "DataPath":
                case "LabelColumn":
                    if (raw is not string text)
                    {
                        return $"{property} takes a string, not {Describe(value)}";
                    }

                    updated = property == "DataPath" ? settings with { DataPath = text } : settings with { LabelColumn = text };
                    return null;
                case "CsvHeader":
                    if (raw is not bool header)
                    {
                        return $"{property} takes true or false, not {Describe(value)}";
                    }

                    updated = settings with { CsvHeader = header };
                    return null;
                case "Description":
                    if (raw is not string description)
                    {
                        return $"{property} takes a string, not {Describe(value)}";
                    }

                    updated = settings with { Description = description };
                    return null;
                default:
                    return $"'{property}' is not an argument of [Experiment]";
            }
        }

        /// <summary>
        /// What the user's datasets need (a folder's path and image size, a CSV file's path and feature count) and the
        /// settings a dataset does not take, as errors at the declaration: the model's shapes are inferred from the
        /// declared sizes, so they cannot be left to run time.
        /// </summary>
        internal static void DataProblems(ExperimentSettings settings, string experiment, LocationInfo? location, List<DiagnosticInfo> diagnostics)
        {
            void Report(string problem, string fix) => diagnostics.Add(Diagnostic(DiagnosticDescriptors.BadDataDeclaration, location, experiment, problem, fix));
            (string Name, bool Set, Dataset[] TakenBy)[] owned =
            {
                ("DataPath", settings.DataPath.Length > 0, new[] { Dataset.ImageFolder, Dataset.Csv }),
                ("ImageHeight", settings.ImageHeight != 0, new[] { Dataset.ImageFolder }),
                ("ImageWidth", settings.ImageWidth != 0, new[] { Dataset.ImageFolder }),
                ("Channels", settings.Channels != 0, new[] { Dataset.ImageFolder }),
                ("Resize", settings.Resize, new[] { Dataset.ImageFolder }),
                ("TestFraction", settings.TestFraction != 0, new[] { Dataset.ImageFolder, Dataset.Csv, Dataset.Digits, Dataset.Iris }),
                ("Features", settings.Features != 0, new[] { Dataset.Csv }),
                ("LabelColumn", settings.LabelColumn.Length > 0, new[] { Dataset.Csv }),
                ("CsvHeader", !settings.CsvHeader, new[] { Dataset.Csv }),
            };
            string misplaced = string.Join(", ", owned.Where(o => o.Set && !o.TakenBy.Contains(settings.Dataset)).Select(o => o.Name));
            if (misplaced.Length > 0)
            {
                Report(
                    $"{misplaced} {(misplaced.Contains(",") ? "are" : "is")} set but Dataset.{settings.Dataset} does not take {(misplaced.Contains(",") ? "them" : "it")}",
                    (misplaced.Contains(",") ? "remove them" : "remove it") + (settings.Dataset is Dataset.Mnist or Dataset.FashionMnist ? ", or use Dataset.ImageFolder or Dataset.Csv for your own data" : ""));
            }

            if (!(settings.TestFraction >= 0 && settings.TestFraction < 1))
            {
                Report($"TestFraction {Value(settings.TestFraction)} is outside [0, 1)", "hold out a share such as TestFraction = 0.2 (0 means 0.2)");
            }

            if (settings.Dataset == Dataset.Iris && settings.Input != Input.Flat)
            {
                Report($"Dataset.Iris gives a row of four numbers, not Input.{settings.Input}", "use Input.Flat");
            }

            if (settings.Dataset is not (Dataset.ImageFolder or Dataset.Csv))
            {
                return;
            }

            if (settings.DataPath.Trim().Length == 0)
            {
                Report($"Dataset.{settings.Dataset} needs DataPath", settings.IsTable ? "set DataPath = \"data/my-table.csv\"" : "set DataPath = \"data/my-digits\" (a folder with train/<class>/ image files)");
            }

            if (settings.IsTable)
            {
                if (settings.Features <= 0)
                {
                    Report($"Dataset.Csv needs the number of feature columns (Features {settings.Features})", "set Features to the file's columns other than the label, e.g. Features = 4");
                }

                if (settings.Input != Input.Flat)
                {
                    Report($"Dataset.Csv gives a row of numbers, not Input.{settings.Input}", "use Input.Flat");
                }

                return;
            }

            if (settings.ImageHeight <= 0 || settings.ImageWidth <= 0)
            {
                Report($"Dataset.ImageFolder needs the images' size (ImageHeight {settings.ImageHeight}, ImageWidth {settings.ImageWidth})", "set ImageHeight and ImageWidth to the images' pixels, e.g. ImageHeight = 28, ImageWidth = 28");
            }
            else if ((long)settings.ImageHeight * settings.ImageWidth > 4096L * 4096L)
            {
                Report($"{settings.ImageHeight} x {settings.ImageWidth} pixels per image is more than 4096 x 4096", "declare a smaller size and set Resize = true");
            }

            if (settings.Channels is not (0 or 1 or 3))
            {
                Report($"Channels {settings.Channels} is neither 1 (grayscale) nor 3 (RGB)", "set Channels = 1 or Channels = 3");
            }
        }

        private static readonly string[] Sweepable =
        {
            "Dataset", "Input", "Optimizer", "LearningRate", "Momentum", "WeightDecay", "LabelSmoothing", "Loss", "BatchSize", "Epochs", "Validation", "ValidationFraction", "Seed", "Tf32",
        };

        /// <summary>The points of the class's [Sweep] attributes: the Cartesian product, the first sweep varying slowest.</summary>
        private static List<SweepPoint> Sweeps(INamedTypeSymbol type, string name, ExperimentSettings settings, LocationInfo? classLocation, List<DiagnosticInfo> diagnostics)
        {
            var points = new List<(List<SweepParameter> Parameters, ExperimentSettings Settings)> { (new List<SweepParameter>(), settings) };
            bool any = false;
            var swept = new HashSet<string>(System.StringComparer.Ordinal);
            foreach (AttributeData sweep in type.GetAttributes().Where(a => a.AttributeClass?.ToDisplayString() == SweepAttributeName))
            {
                any = true;
                LocationInfo? location = sweep.ApplicationSyntaxReference is { } reference ? Locate(reference.GetSyntax().GetLocation()) : classLocation;
                Dictionary<string, TypedConstant> arguments = Arguments(sweep);
                string parameter = arguments.TryGetValue("parameter", out TypedConstant p) && p.Value is string text ? text : "";
                ImmutableArray<TypedConstant> values = arguments.TryGetValue("values", out TypedConstant v) && v.Kind == TypedConstantKind.Array ? v.Values : ImmutableArray<TypedConstant>.Empty;
                if (!Sweepable.Contains(parameter))
                {
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.BadSweep, location, name, $"'{parameter}' cannot be swept", $"sweep one of {string.Join(", ", Sweepable)}, named with nameof(ExperimentAttribute.LearningRate)"));
                    continue;
                }

                if (!swept.Add(parameter))
                {
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.BadSweep, location, name, $"'{parameter}' is swept twice", "list all its values in one [Sweep]"));
                    continue;
                }

                if (values.Length == 0)
                {
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.BadSweep, location, name, $"the sweep over '{parameter}' has no values", $"list them: [Sweep(nameof(ExperimentAttribute.{parameter}), a, b, c)]"));
                    continue;
                }

                var next = new List<(List<SweepParameter>, ExperimentSettings)>();
                foreach ((List<SweepParameter> parameters, ExperimentSettings current) in points)
                {
                    foreach (TypedConstant value in values)
                    {
                        if (EnumProblem(value.Type, value.Value) is { } allowed)
                        {
                            diagnostics.Add(Diagnostic(DiagnosticDescriptors.EnumOutOfRange, location, name, $"sweep over {parameter}", Value(value.Value), value.Type!.Name, allowed));
                            return new List<SweepPoint>();
                        }

                        if (Apply(current, parameter, value, out ExperimentSettings applied) is { } problem)
                        {
                            diagnostics.Add(Diagnostic(DiagnosticDescriptors.BadSweep, location, name, problem, $"give values of {parameter}'s type"));
                            return new List<SweepPoint>();
                        }

                        next.Add((new List<SweepParameter>(parameters) { new(Snake(parameter), Display(value)) }, applied));
                    }
                }

                points = next;
                if (points.Count > MaxSweepPoints)
                {
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.BadSweep, location, name, $"the sweep has {points.Count} points", $"keep it to at most {MaxSweepPoints}"));
                    return new List<SweepPoint>();
                }
            }

            if (!any || diagnostics.Count > 0)
            {
                return new List<SweepPoint>();
            }

            var result = new List<SweepPoint>();
            var names = new Dictionary<string, int>(System.StringComparer.Ordinal);
            foreach ((List<SweepParameter> parameters, ExperimentSettings pointSettings) in points)
            {
                string pointName = name + "@" + string.Join(",", parameters.Select(x => $"{x.Name}={x.Value}"));
                if (names.TryGetValue(pointName, out int earlier))
                {
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.BadSweep, classLocation, name, $"points {earlier + 1} and {result.Count + 1} are both '{pointName}'", "list each value once"));
                    return new List<SweepPoint>();
                }

                names[pointName] = result.Count;
                result.Add(new SweepPoint(pointName, EquatableArray.From(parameters), pointSettings));
            }

            return result;
        }

        /// <summary>How a swept value reads in a point's name: numbers as written (round-trip), enum members and flags in snake case.</summary>
        private static string Display(TypedConstant value) => value.Value switch
        {
            _ when value.Type?.TypeKind == TypeKind.Enum => Snake(MemberName(value.Type, value.Value) ?? Value(value.Value)),
            double d => d.ToString("R", CultureInfo.InvariantCulture).ToLowerInvariant(),
            float f => ((double)f).ToString("R", CultureInfo.InvariantCulture).ToLowerInvariant(),
            bool b => b ? "true" : "false",
            _ => Value(value.Value),
        };
    }
}
