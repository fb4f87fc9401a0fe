using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using Experiments.Generators.Models;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Experiments.Generators;

public sealed partial class ExperimentGenerator
{
    /// <summary>
    /// Reads one [Experiment] class into an <see cref="ExperimentSpec"/>: its arguments over those of its bases, its
    /// layers with spread blocks and inherited layers resolved, its sweep points. Symbols and syntax stay here; the
    /// spec holds values only. Reads every declaration it needs through symbols, so a base or a block in another
    /// file is read afresh whenever the compilation changes (the spec then compares equal and nothing downstream runs).
    /// </summary>
    internal static partial class Parser
    {
        public const string SweepAttributeName = "Experiments.SweepAttribute";
        private const int MaxSweepPoints = 1000;
        private static readonly Regex NamePattern = new("^[a-z0-9]+(-[a-z0-9]+)*$");

        private static readonly ExperimentSettings Defaults = new(
            DatasetKind.Mnist, InputKind.Flat, OptimizerKind.RmsProp, 0.0, 0.0, LossKind.CategoricalCrossEntropy, 32, 1, ValidationKind.None, 0.0, 0, false, "");

        public static ExperimentSpec Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            try
            {
                return ParseDeclaration(context, cancellationToken);
            }
            catch (System.Exception e) when (e is not System.OperationCanceledException)
            {
                // Never throw from a generator (CS8785 drops every experiment's code): this declaration gets an error instead.
                var type = (INamedTypeSymbol)context.TargetSymbol;
                LocationInfo? location = Locate(((TypeDeclarationSyntax)context.TargetNode).Identifier.GetLocation());
                return Failed(type, location, InternalError(location, type.Name, e));
            }
        }

        internal static DiagnosticInfo InternalError(LocationInfo? location, string experiment, System.Exception e) =>
            Diagnostic("EXP0018", location, experiment, $"{e.GetType().Name}: {e.Message}");

        private static ExperimentSpec Failed(INamedTypeSymbol type, LocationInfo? location, DiagnosticInfo diagnostic) => new(
            type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : "", type.Name, type.Name, Defaults,
            default, default, EquatableArray.From(new[] { diagnostic }), location);

        private static ExperimentSpec ParseDeclaration(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var type = (INamedTypeSymbol)context.TargetSymbol;
            var syntax = (TypeDeclarationSyntax)context.TargetNode;
            var diagnostics = new List<DiagnosticInfo>();
            LocationInfo? classLocation = Locate(syntax.Identifier.GetLocation());
            AttributeData attribute = context.Attributes[0];
            string name = Arguments(attribute).TryGetValue("name", out TypedConstant n) && n.Value is string text ? text : "";
            string label = name.Length > 0 ? name : type.Name;

            if (ShapeProblem(type, syntax) is { } shape)
            {
                diagnostics.Add(Diagnostic("EXP0017", classLocation, label, shape));
            }
            else if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                diagnostics.Add(Diagnostic("EXP0001", classLocation, type.Name));
            }

            if (!NamePattern.IsMatch(name))
            {
                diagnostics.Add(Diagnostic("EXP0014", classLocation, name));
            }

            var reader = new DeclarationReader(context.SemanticModel.Compilation, label, cancellationToken);
            Declaration? declaration = reader.Read(type, attribute, classLocation, diagnostics, new List<INamedTypeSymbol>());
            ExperimentSettings settings = declaration?.Settings ?? Defaults;
            List<SweepPoint> points = diagnostics.Count == 0 ? Sweeps(type, name, settings, classLocation, diagnostics) : new List<SweepPoint>();
            DeclaredChecks checks = Checks(type, label, classLocation, diagnostics);
            return new ExperimentSpec(
                type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString(),
                type.Name,
                name,
                settings,
                EquatableArray.From(declaration?.Layers ?? new List<LayerSpec>()),
                EquatableArray.From(points),
                EquatableArray.From(diagnostics),
                classLocation)
            {
                Checks = checks,
            };
        }

        private sealed record Declaration(ExperimentSettings Settings, List<LayerSpec> Layers);

        /// <summary>Constructor arguments by parameter name, not position: the attribute's constructors may gain parameters.</summary>
        private static Dictionary<string, TypedConstant> Arguments(AttributeData attribute)
        {
            var arguments = new Dictionary<string, TypedConstant>(System.StringComparer.Ordinal);
            ImmutableArray<IParameterSymbol> parameters = attribute.AttributeConstructor?.Parameters ?? ImmutableArray<IParameterSymbol>.Empty;
            for (int index = 0; index < attribute.ConstructorArguments.Length && index < parameters.Length; index++)
            {
                arguments[parameters[index].Name] = attribute.ConstructorArguments[index];
            }

            return arguments;
        }

        private static AttributeData? ExperimentAttributeOf(ITypeSymbol type) =>
            type.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == AttributeName);

        /// <summary>Reads a declaration and, through BasedOn, its bases; resolves layers and spread blocks through symbols.</summary>
        private sealed class DeclarationReader(Compilation compilation, string experiment, CancellationToken cancellationToken)
        {
            public Declaration? Read(INamedTypeSymbol type, AttributeData attribute, LocationInfo? location, List<DiagnosticInfo> diagnostics, List<INamedTypeSymbol> chain)
            {
                chain.Add(type);
                Dictionary<string, TypedConstant> arguments = Arguments(attribute);
                foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
                {
                    arguments[argument.Key] = argument.Value;
                }

                // Every enum argument is checked against its enum's members: a cast such as (Loss)5 compiles.
                foreach (KeyValuePair<string, TypedConstant> argument in arguments)
                {
                    if (argument.Key == "dataset" && argument.Value.Value is int dataset && EnumProblem(argument.Value.Type, dataset) is not null)
                    {
                        diagnostics.Add(Diagnostic("EXP0003", location, experiment, dataset.ToString(CultureInfo.InvariantCulture)));
                    }
                    else if (EnumProblem(argument.Value.Type, argument.Value.Value) is { } allowed)
                    {
                        diagnostics.Add(Diagnostic("EXP0016", location, experiment, Pascal(argument.Key), Value(argument.Value.Value), argument.Value.Type!.Name, allowed));
                    }
                }

                ExperimentSettings settings = Defaults;
                List<LayerSpec>? inherited = null;
                if (arguments.TryGetValue("BasedOn", out TypedConstant basedOn) && basedOn.Value is not null)
                {
                    if (basedOn.Value is not INamedTypeSymbol baseType || ExperimentAttributeOf(baseType) is not { } baseAttribute)
                    {
                        diagnostics.Add(Diagnostic("EXP0019", location, experiment, $"BasedOn names '{Value(basedOn.Value)}', which is not an [Experiment] class", "name an [Experiment] class: BasedOn = typeof(MyBase)"));
                        return null;
                    }

                    if (chain.Contains(baseType, SymbolEqualityComparer.Default))
                    {
                        string cycle = string.Join(" -> ", chain.Concat(new[] { baseType }).Select(t => t.Name));
                        diagnostics.Add(Diagnostic("EXP0019", location, experiment, $"BasedOn forms a cycle ({cycle})", "let one of them declare its own dataset, input and layers"));
                        return null;
                    }

                    var baseDiagnostics = new List<DiagnosticInfo>();
                    Declaration? baseDeclaration = Read(baseType, baseAttribute, location, baseDiagnostics, chain);
                    if (baseDiagnostics.Count > 0 || baseDeclaration is null)
                    {
                        // The base reports its own errors; the variant says where they come from, once.
                        bool cycle = baseDiagnostics.Any(d => d.Id == "EXP0019");
                        diagnostics.Add(cycle ? baseDiagnostics.First(d => d.Id == "EXP0019") with { Location = location } : Diagnostic("EXP0019", location, experiment, $"its base '{baseType.Name}' has errors", "fix the base's errors first"));
                        return null;
                    }

                    settings = baseDeclaration.Settings;
                    inherited = baseDeclaration.Layers;
                }
                else if (!arguments.ContainsKey("dataset") || !arguments.ContainsKey("input"))
                {
                    diagnostics.Add(Diagnostic("EXP0019", location, experiment, "it names neither a dataset and input nor a base", "use [Experiment(name, Dataset.Mnist, Input.Flat, ...)] or [Experiment(name, BasedOn = typeof(Other), ...)]"));
                    return null;
                }

                // A variant's own description is its own: it does not inherit the base's one line.
                settings = settings with { Description = "" };
                foreach (KeyValuePair<string, TypedConstant> argument in arguments.Where(a => a.Key is not "name" and not "BasedOn"))
                {
                    if (Apply(settings, Pascal(argument.Key), argument.Value, out ExperimentSettings updated) is null)
                    {
                        settings = updated;
                    }
                }

                List<LayerSpec>? layers = OwnLayers(type, location, diagnostics) ?? inherited;
                if (layers is null)
                {
                    diagnostics.Add(Diagnostic("EXP0011", location, experiment, "no 'Layers' member with an initializer was found"));
                    return null;
                }

                return new Declaration(settings, layers);
            }

            /// <summary>The layers of the type's own 'Layers' member; null when it has none.</summary>
            private List<LayerSpec>? OwnLayers(INamedTypeSymbol type, LocationInfo? location, List<DiagnosticInfo> diagnostics)
            {
                ISymbol? member = type.GetMembers("Layers").FirstOrDefault(m => m is IFieldSymbol or IPropertySymbol);
                if (member is null)
                {
                    return null;
                }

                if (Initializer(member) is not { } initializer)
                {
                    return null;
                }

                var layers = new List<LayerSpec>();
                var blocks = new List<ISymbol> { member };
                List<IOperation>? elements = Elements(Operation(initializer), Locate(initializer.GetLocation()) ?? location, diagnostics, blocks);
                if (elements is null || elements.Count == 0)
                {
                    if (!diagnostics.Any(d => d.Id == "EXP0011"))
                    {
                        diagnostics.Add(Diagnostic("EXP0011", Locate(initializer.GetLocation()) ?? location, experiment, "'Layers' is empty or not an array of layers"));
                    }

                    return layers;
                }

                for (int index = 0; index < elements.Count; index++)
                {
                    if (ParseLayer(elements[index], (index + 1).ToString(CultureInfo.InvariantCulture), diagnostics, blocks) is { } layer)
                    {
                        layers.Add(layer);
                    }
                }

                return layers;
            }

            private IOperation? Operation(ExpressionSyntax expression) =>
                compilation.GetSemanticModel(expression.SyntaxTree).GetOperation(expression, cancellationToken);

            /// <summary>
            /// The layers an array expression lists, with spreads (<c>..Stem</c>) and references to other blocks
            /// (<c>Layers = Shared.Stem</c>) replaced by the blocks' own elements.
            /// </summary>
            private List<IOperation>? Elements(IOperation? operation, LocationInfo? location, List<DiagnosticInfo> diagnostics, List<ISymbol> blocks)
            {
                operation = Unwrap(operation);
                IEnumerable<IOperation>? items = operation switch
                {
                    ICollectionExpressionOperation collection => collection.Elements,
                    IArrayCreationOperation array => array.Initializer?.ElementValues,
                    IFieldReferenceOperation or IPropertyReferenceOperation => new[] { operation },
                    _ => null,
                };
                if (items is null)
                {
                    return null;
                }

                var result = new List<IOperation>();
                foreach (IOperation item in items)
                {
                    IOperation? element = item is ISpreadOperation spread ? Unwrap(spread.Operand) : item;
                    if (element is not (IFieldReferenceOperation or IPropertyReferenceOperation))
                    {
                        result.Add(item);
                    }
                    else if (Block(element, location, diagnostics, blocks) is { } block)
                    {
                        result.AddRange(block);
                    }
                    else
                    {
                        return null;
                    }
                }

                return result;
            }

            /// <summary>A referenced block: a static, read-only Layer[] field or get-only property with an initializer in this compilation.</summary>
            private List<IOperation>? Block(IOperation reference, LocationInfo? location, List<DiagnosticInfo> diagnostics, List<ISymbol> blocks)
            {
                ISymbol member = reference is IFieldReferenceOperation field ? field.Field : ((IPropertyReferenceOperation)reference).Property;
                LocationInfo? at = Locate(reference.Syntax.GetLocation()) ?? location;
                string display = $"{member.ContainingType?.Name}.{member.Name}";
                bool readOnly = member is IFieldSymbol { IsStatic: true, IsReadOnly: true } or IPropertySymbol { IsStatic: true, SetMethod: null };
                if (!readOnly)
                {
                    diagnostics.Add(Diagnostic("EXP0011", at, experiment, $"'{display}' is not static and read-only; a layer block is 'static readonly Layer[]'"));
                    return null;
                }

                if (blocks.Contains(member, SymbolEqualityComparer.Default))
                {
                    diagnostics.Add(Diagnostic("EXP0011", at, experiment, $"'{display}' includes itself ({string.Join(" -> ", blocks.Select(b => b.Name).Concat(new[] { member.Name }))})"));
                    return null;
                }

                if (Initializer(member) is not { } initializer)
                {
                    diagnostics.Add(Diagnostic("EXP0011", at, experiment, $"'{display}' has no initializer in this project; a layer block is 'static readonly Layer[] {member.Name} = [ ... ];'"));
                    return null;
                }

                IOperation? value = Operation(initializer);
                ITypeSymbol? memberType = member is IFieldSymbol f ? f.Type : ((IPropertySymbol)member).Type;
                if (memberType is not IArrayTypeSymbol)
                {
                    // A single shared layer (static readonly Layer Pool = new MaxPool2D(2)) stands for itself.
                    return value is null ? null : new List<IOperation> { value };
                }

                blocks.Add(member);
                List<IOperation>? elements = Elements(value, Locate(initializer.GetLocation()) ?? at, diagnostics, blocks);
                blocks.RemoveAt(blocks.Count - 1);
                if (elements is null)
                {
                    if (!diagnostics.Any(d => d.Id == "EXP0011"))
                    {
                        diagnostics.Add(Diagnostic("EXP0011", at, experiment, $"'{display}' is not an array of layers"));
                    }
                }

                return elements;
            }

            private static ExpressionSyntax? Initializer(ISymbol member)
            {
                foreach (SyntaxReference reference in member.DeclaringSyntaxReferences)
                {
                    switch (reference.GetSyntax())
                    {
                        case VariableDeclaratorSyntax { Initializer: { } init }:
                            return init.Value;
                        case PropertyDeclarationSyntax property when (property.ExpressionBody?.Expression ?? property.Initializer?.Value) is { } value:
                            return value;
                    }
                }

                return null;
            }

            private LayerSpec? ParseLayer(IOperation element, string position, List<DiagnosticInfo> diagnostics, List<ISymbol> blocks)
            {
                IOperation? operation = Unwrap(element);
                LocationInfo? location = Locate(element.Syntax.GetLocation());
                if (position.Count(c => c == '.') > 32)
                {
                    diagnostics.Add(Diagnostic("EXP0011", location, experiment, $"layer {position} is nested more than 32 deep (does a shared layer include itself?)"));
                    return null;
                }

                if (operation is not IObjectCreationOperation creation || creation.Type is null ||
                    creation.Type.ContainingNamespace?.ToDisplayString() != "Experiments.Layers" ||
                    !System.Enum.TryParse(creation.Type.Name == "ActivationLayer" ? "Activation" : creation.Type.Name, out LayerKind kind))
                {
                    diagnostics.Add(Diagnostic("EXP0011", location, experiment, $"layer {position} is not a 'new' layer from Experiments.Layers"));
                    return null;
                }

                var values = new Dictionary<string, object?>();
                var children = new List<LayerSpec>();
                ITypeSymbol? owner = null;
                foreach (IArgumentOperation argument in creation.Arguments)
                {
                    // Records' primary parameters are PascalCase, extra constructors' camelCase: one key for both.
                    string parameter = Pascal(argument.Parameter?.Name ?? "");
                    if (argument.ArgumentKind == ArgumentKind.ParamArray || argument.Parameter?.Type is IArrayTypeSymbol)
                    {
                        List<IOperation> nested = Elements(argument.Value, location, diagnostics, blocks) ?? new List<IOperation>();
                        for (int i = 0; i < nested.Count; i++)
                        {
                            if (ParseLayer(nested[i], $"{position}.{i + 1}", diagnostics, blocks) is { } child)
                            {
                                children.Add(child);
                            }
                        }

                        continue;
                    }

                    if (argument.Parameter?.Type.ToDisplayString() is "System.Type" or "System.Type?")
                    {
                        owner = Unwrap(argument.Value) is ITypeOfOperation typeOf ? typeOf.TypeOperand : null;
                        if (owner is null && Unwrap(argument.Value) is not ILiteralOperation { ConstantValue: { HasValue: true, Value: null } })
                        {
                            diagnostics.Add(Diagnostic("EXP0002", Locate(argument.Syntax.GetLocation()) ?? location, experiment, position, kind.ToString(), parameter));
                        }

                        continue;
                    }

                    Optional<object?> constant = argument.Value.ConstantValue;
                    if (!constant.HasValue)
                    {
                        diagnostics.Add(Diagnostic("EXP0002", Locate(argument.Syntax.GetLocation()) ?? location, experiment, position, kind.ToString(), parameter));
                        continue;
                    }

                    if (EnumProblem(argument.Parameter?.Type, constant.Value) is { } allowed)
                    {
                        diagnostics.Add(Diagnostic("EXP0016", Locate(argument.Syntax.GetLocation()) ?? location, experiment, $"layer {position} ({kind}), {parameter}", Value(constant.Value), argument.Parameter!.Type.Name, allowed));
                        continue;
                    }

                    values[parameter] = argument.Parameter?.Type.TypeKind == TypeKind.Enum ? MemberName(argument.Parameter.Type, constant.Value) : constant.Value;
                }

                int Int(string key, int fallback = 0) => values.TryGetValue(key, out object? v) && v is int n ? n : fallback;
                double Double(string key) => values.TryGetValue(key, out object? v) && v is double x ? x : 0.0;
                ActivationKind Activation(ActivationKind fallback) =>
                    values.TryGetValue("Activation", out object? v) && v is string member && System.Enum.TryParse(member, out ActivationKind a) ? a : fallback;
                PaddingKind Padding() => values.TryGetValue("Padding", out object? v) && v is string member && System.Enum.TryParse(member, out PaddingKind p) ? p : PaddingKind.Valid;

                int kernel = Int("Kernel");
                int stride = Int("Stride", kind == LayerKind.MaxPool2D ? 0 : 1);
                int pool = Int("Pool", 2);
                string method = values.TryGetValue("Method", out object? m) ? m as string ?? "" : "";
                string methodOwner = "";
                if (kind == LayerKind.Function)
                {
                    // Without an owner the method belongs to the class whose Layers (or block) the layer is written in.
                    INamedTypeSymbol? declaring = compilation.GetSemanticModel(element.Syntax.SyntaxTree).GetEnclosingSymbol(element.Syntax.SpanStart, cancellationToken)?.ContainingType;
                    ITypeSymbol? resolvedOwner = owner ?? declaring;
                    methodOwner = resolvedOwner?.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) ?? "";
                    CheckFunction(resolvedOwner, declaring, method, position, location, diagnostics);
                }

                return kind switch
                {
                    LayerKind.MaxPool2D => new LayerSpec(kind, 0, pool, pool, stride == 0 ? pool : stride, stride == 0 ? pool : stride, Padding(), ActivationKind.None, 0, 0, "", "", default, location),
                    LayerKind.Conv2D => new LayerSpec(
                        kind, Int("Filters"), kernel, Int("KernelWidth") == 0 ? kernel : Int("KernelWidth"), stride, Int("StrideWidth") == 0 ? stride : Int("StrideWidth"),
                        Padding(), Activation(ActivationKind.None), 0, 0, "", "", default, location),
                    LayerKind.SimpleRnn => new LayerSpec(kind, Int("Units"), 0, 0, 0, 0, PaddingKind.Valid, Activation(ActivationKind.Tanh), 0, 0, "", "", default, location),
                    _ => new LayerSpec(kind, Int("Units"), 0, 0, 0, 0, PaddingKind.Valid, Activation(ActivationKind.None), Double("Rate"), Int("Axis", -1), method, methodOwner, EquatableArray.From(children), location),
                };
            }

            private void CheckFunction(ITypeSymbol? owner, INamedTypeSymbol? declaring, string method, string position, LocationInfo? location, List<DiagnosticInfo> diagnostics)
            {
                string? problem;
                if (owner is null)
                {
                    problem = "the method's class could not be resolved";
                }
                else
                {
                    List<IMethodSymbol> candidates = owner.GetMembers(method).OfType<IMethodSymbol>().ToList();
                    IMethodSymbol? fit = candidates.FirstOrDefault(c => c.IsStatic && c.Parameters.Length == 1 && IsTensor(c.Parameters[0].Type) && IsTensor(c.ReturnType));
                    problem = candidates.Count == 0 ? $"'{owner.Name}' has no method '{method}'"
                        : fit is null ? $"'{owner.Name}.{method}' must be static, take one Tensor and return a Tensor"
                        : !SymbolEqualityComparer.Default.Equals(owner, declaring) && fit.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal)
                            ? $"'{owner.Name}.{method}' is {fit.DeclaredAccessibility.ToString().ToLowerInvariant()}; a method of another class must be public or internal"
                            : null;
                }

                if (problem is not null)
                {
                    diagnostics.Add(Diagnostic("EXP0010", location, experiment, position, problem, method.Length > 0 ? method : "Normalize"));
                }
            }
        }

        /// <summary>
        /// Sets one [Experiment] argument by its property name. Null when it applied; otherwise what is wrong (an
        /// unknown name, or a value of the wrong type). Enums are matched by member name.
        /// </summary>
        internal static string? Apply(ExperimentSettings settings, string property, TypedConstant value, out ExperimentSettings updated)
        {
            updated = settings;
            object? raw = value.Value;
            string? member = value.Type?.TypeKind == TypeKind.Enum ? MemberName(value.Type, raw) : null;
            string? Enum<T>(string enumName, System.Func<T, ExperimentSettings> set, out ExperimentSettings result)
                where T : struct
            {
                result = settings;
                if (value.Type?.ToDisplayString() != $"Experiments.{enumName}" || member is null || !System.Enum.TryParse(member, out T kind))
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
                case "Dataset": return Enum<DatasetKind>("Dataset", v => settings with { Dataset = v }, out updated);
                case "Input": return Enum<InputKind>("Input", v => settings with { Input = v }, out updated);
                case "Optimizer": return Enum<OptimizerKind>("Optimizer", v => settings with { Optimizer = v }, out updated);
                case "Loss": return Enum<LossKind>("Loss", v => settings with { Loss = v }, out updated);
                case "Validation": return Enum<ValidationKind>("Validation", v => settings with { Validation = v }, out updated);
                case "LearningRate": return Number(v => settings with { LearningRate = v }, out updated);
                case "Momentum": return Number(v => settings with { Momentum = v }, out updated);
                case "ValidationFraction": return Number(v => settings with { ValidationFraction = v }, out updated);
                case "BatchSize": return Integer(v => settings with { BatchSize = (int)v }, narrow: true, out updated);
                case "Epochs": return Integer(v => settings with { Epochs = (int)v }, narrow: true, out updated);
                case "Seed": return Integer(v => settings with { Seed = v }, narrow: false, out updated);
                case "Seeds": return Integer(v => settings with { Seeds = (int)v }, narrow: true, out updated);
                case "Tf32":
                    if (raw is not bool flag)
                    {
                        return $"{property} takes true or false, not {Describe(value)}";
                    }

                    updated = settings with { Tf32 = flag };
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

        private static readonly string[] Sweepable =
        {
            "Dataset", "Input", "Optimizer", "LearningRate", "Momentum", "Loss", "BatchSize", "Epochs", "Validation", "ValidationFraction", "Seed", "Tf32",
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
                    diagnostics.Add(Diagnostic("EXP0020", location, name, $"'{parameter}' cannot be swept", $"sweep one of {string.Join(", ", Sweepable)}, named with nameof(ExperimentAttribute.LearningRate)"));
                    continue;
                }

                if (!swept.Add(parameter))
                {
                    diagnostics.Add(Diagnostic("EXP0020", location, name, $"'{parameter}' is swept twice", "list all its values in one [Sweep]"));
                    continue;
                }

                if (values.Length == 0)
                {
                    diagnostics.Add(Diagnostic("EXP0020", location, name, $"the sweep over '{parameter}' has no values", $"list them: [Sweep(nameof(ExperimentAttribute.{parameter}), a, b, c)]"));
                    continue;
                }

                var next = new List<(List<SweepParameter>, ExperimentSettings)>();
                foreach ((List<SweepParameter> parameters, ExperimentSettings current) in points)
                {
                    foreach (TypedConstant value in values)
                    {
                        if (EnumProblem(value.Type, value.Value) is { } allowed)
                        {
                            diagnostics.Add(Diagnostic("EXP0016", location, name, $"sweep over {parameter}", Value(value.Value), value.Type!.Name, allowed));
                            return new List<SweepPoint>();
                        }

                        if (Apply(current, parameter, value, out ExperimentSettings applied) is { } problem)
                        {
                            diagnostics.Add(Diagnostic("EXP0020", location, name, problem, $"give values of {parameter}'s type"));
                            return new List<SweepPoint>();
                        }

                        next.Add((new List<SweepParameter>(parameters) { new(Snake(parameter), Display(value)) }, applied));
                    }
                }

                points = next;
                if (points.Count > MaxSweepPoints)
                {
                    diagnostics.Add(Diagnostic("EXP0020", location, name, $"the sweep has {points.Count} points", $"keep it to at most {MaxSweepPoints}"));
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
                    diagnostics.Add(Diagnostic("EXP0020", classLocation, name, $"points {earlier + 1} and {result.Count + 1} are both '{pointName}'", "list each value once"));
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

        private static string Describe(TypedConstant value) =>
            value.Type?.TypeKind == TypeKind.Enum ? $"{value.Type.Name}.{MemberName(value.Type, value.Value) ?? Value(value.Value)}"
            : value.Value is string s ? $"\"{s}\""
            : $"{Value(value.Value)} ({value.Type?.ToDisplayString() ?? "null"})";

        internal static string Snake(string pascal)
        {
            var snake = new StringBuilder();
            for (int i = 0; i < pascal.Length; i++)
            {
                char c = pascal[i];
                bool boundary = i > 0 && char.IsUpper(c) && (char.IsLower(pascal[i - 1]) || (i + 1 < pascal.Length && char.IsLower(pascal[i + 1])));
                if (boundary)
                {
                    snake.Append('_');
                }

                snake.Append(char.ToLowerInvariant(c));
            }

            return snake.ToString();
        }

        /// <summary>The name of the enum member whose value is <paramref name="value"/>, or null.</summary>
        private static string? MemberName(ITypeSymbol type, object? value)
        {
            if (value is null)
            {
                return null;
            }

            long actual = System.Convert.ToInt64(value, CultureInfo.InvariantCulture);
            return type.GetMembers().OfType<IFieldSymbol>()
                .FirstOrDefault(f => f.HasConstantValue && System.Convert.ToInt64(f.ConstantValue, CultureInfo.InvariantCulture) == actual)?.Name;
        }

        /// <summary>The generated partial must merge with the declaration: a top-level, non-generic class.</summary>
        private static string? ShapeProblem(INamedTypeSymbol type, TypeDeclarationSyntax syntax)
        {
            if (syntax is RecordDeclarationSyntax)
            {
                return $"'{type.Name}' is a record";
            }

            if (syntax is not ClassDeclarationSyntax)
            {
                return $"'{type.Name}' is a {syntax.Keyword.Text}";
            }

            if (type.ContainingType is { } outer)
            {
                return $"'{type.Name}' is nested in '{outer.Name}'";
            }

            return type.IsGenericType ? $"'{type.Name}' is generic" : null;
        }

        /// <summary>Null when <paramref name="value"/> is a member of the enum <paramref name="type"/> (or the type is no enum); else the allowed members.</summary>
        internal static string? EnumProblem(ITypeSymbol? type, object? value)
        {
            if (type is not INamedTypeSymbol { TypeKind: TypeKind.Enum } enumType || value is null)
            {
                return null;
            }

            List<IFieldSymbol> members = enumType.GetMembers().OfType<IFieldSymbol>().Where(f => f.HasConstantValue).ToList();
            return MemberName(enumType, value) is not null ? null : string.Join(", ", members.Select(f => $"{enumType.Name}.{f.Name}"));
        }

        private static string Pascal(string name) => name.Length == 0 ? name : char.ToUpperInvariant(name[0]) + name.Substring(1);

        private static string Value(object? value) => System.Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null";

        private static IOperation? Unwrap(IOperation? operation)
        {
            while (operation is IConversionOperation conversion)
            {
                operation = conversion.Operand;
            }

            return operation;
        }

        private static bool IsTensor(ITypeSymbol type) => type.ToDisplayString() == "TorchSharp.torch.Tensor";

        internal static DiagnosticInfo Diagnostic(string id, LocationInfo? location, params string[] arguments) =>
            new(id, location, EquatableArray.From(arguments));

        internal static LocationInfo? Locate(Location location)
        {
            if (location.SourceTree is null)
            {
                return null;
            }

            FileLinePositionSpan span = location.GetLineSpan();
            return new LocationInfo(
                location.SourceTree.FilePath,
                location.SourceSpan.Start,
                location.SourceSpan.Length,
                span.StartLinePosition.Line,
                span.StartLinePosition.Character,
                span.EndLinePosition.Line,
                span.EndLinePosition.Character);
        }
    }
}
