using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
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
    internal static class Parser
    {
        private static readonly Regex NamePattern = new("^[a-z0-9]+(-[a-z0-9]+)*$");

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
            type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : "", type.Name, type.Name, 0, 0, 2, 0, 0, 0, 32, 1, 0, 0, 0, "", false,
            EquatableArray.From(new List<LayerSpec>()), EquatableArray.From(new List<DiagnosticInfo> { diagnostic }), location);

        private static ExperimentSpec ParseDeclaration(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var type = (INamedTypeSymbol)context.TargetSymbol;
            var syntax = (TypeDeclarationSyntax)context.TargetNode;
            AttributeData attribute = context.Attributes[0];
            var diagnostics = new List<DiagnosticInfo>();
            LocationInfo? classLocation = Locate(syntax.Identifier.GetLocation());

            // Arguments by parameter name, not position: the attribute's constructor may gain parameters.
            var positional = new Dictionary<string, TypedConstant>(System.StringComparer.Ordinal);
            ImmutableArray<IParameterSymbol> parameters = attribute.AttributeConstructor?.Parameters ?? ImmutableArray<IParameterSymbol>.Empty;
            for (int index = 0; index < attribute.ConstructorArguments.Length && index < parameters.Length; index++)
            {
                positional[parameters[index].Name] = attribute.ConstructorArguments[index];
            }

            string name = positional.TryGetValue("name", out TypedConstant n) && n.Value is string text ? text : "";
            int dataset = positional.TryGetValue("dataset", out TypedConstant d) && d.Value is int datasetValue ? datasetValue : 0;
            int input = positional.TryGetValue("input", out TypedConstant i) && i.Value is int inputValue ? inputValue : 0;
            T Named<T>(string key, T fallback) =>
                attribute.NamedArguments.FirstOrDefault(a => a.Key == key).Value.Value is T value ? value : fallback;

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

            if (dataset is < 0 or > 1)
            {
                diagnostics.Add(Diagnostic("EXP0003", classLocation, name, dataset.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }

            // Every other enum argument is checked against its enum's members: a cast such as (Loss)5 compiles.
            foreach (KeyValuePair<string, TypedConstant> argument in positional.Where(p => p.Key != "dataset").Concat(attribute.NamedArguments))
            {
                if (EnumProblem(argument.Value.Type, argument.Value.Value) is { } allowed)
                {
                    diagnostics.Add(Diagnostic("EXP0016", classLocation, label, Pascal(argument.Key), Value(argument.Value.Value), argument.Value.Type!.Name, allowed));
                }
            }

            var layers = new List<LayerSpec>();
            ExpressionSyntax? initializer = FindLayers(syntax);
            if (initializer is null)
            {
                diagnostics.Add(Diagnostic("EXP0011", classLocation, name, "no 'Layers' member with an initializer was found"));
            }
            else
            {
                SemanticModel model = context.SemanticModel;
                IOperation? operation = model.GetOperation(initializer, cancellationToken);
                List<IOperation>? elements = Elements(operation);
                if (elements is null || elements.Count == 0)
                {
                    diagnostics.Add(Diagnostic("EXP0011", Locate(initializer.GetLocation()), name, "'Layers' is empty or not an array of layers"));
                }
                else
                {
                    for (int index = 0; index < elements.Count; index++)
                    {
                        LayerSpec? layer = ParseLayer(elements[index], name, (index + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), type, diagnostics);
                        if (layer is not null)
                        {
                            layers.Add(layer);
                        }
                    }
                }
            }

            return new ExperimentSpec(
                type.ContainingNamespace.IsGlobalNamespace ? "" : type.ContainingNamespace.ToDisplayString(),
                type.Name,
                name,
                dataset,
                input,
                Named("Optimizer", 2),
                Named("LearningRate", 0.0),
                Named("Momentum", 0.0),
                Named("Loss", 0),
                Named("BatchSize", 32),
                Named("Epochs", 1),
                Named("Validation", 0),
                Named("ValidationFraction", 0.0),
                Named("Seed", 0L),
                Named("Description", ""),
                Named("Tf32", false),
                EquatableArray.From(layers),
                EquatableArray.From(diagnostics),
                classLocation);
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
            long actual = System.Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
            return members.Any(f => System.Convert.ToInt64(f.ConstantValue, System.Globalization.CultureInfo.InvariantCulture) == actual)
                ? null
                : string.Join(", ", members.Select(f => $"{enumType.Name}.{f.Name}"));
        }

        private static string Pascal(string name) => name.Length == 0 ? name : char.ToUpperInvariant(name[0]) + name.Substring(1);

        private static string Value(object? value) => System.Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "null";

        private static ExpressionSyntax? FindLayers(TypeDeclarationSyntax syntax)
        {
            foreach (MemberDeclarationSyntax member in syntax.Members)
            {
                switch (member)
                {
                    case FieldDeclarationSyntax field:
                        VariableDeclaratorSyntax? variable = field.Declaration.Variables.FirstOrDefault(v => v.Identifier.Text == "Layers");
                        if (variable?.Initializer is { } init)
                        {
                            return init.Value;
                        }

                        break;
                    case PropertyDeclarationSyntax property when property.Identifier.Text == "Layers":
                        return property.ExpressionBody?.Expression ?? property.Initializer?.Value;
                }
            }

            return null;
        }

        private static List<IOperation>? Elements(IOperation? operation)
        {
            operation = Unwrap(operation);
            return operation switch
            {
                ICollectionExpressionOperation collection => collection.Elements.ToList(),
                IArrayCreationOperation array => array.Initializer?.ElementValues.ToList(),
                _ => null,
            };
        }

        private static IOperation? Unwrap(IOperation? operation)
        {
            while (operation is IConversionOperation conversion)
            {
                operation = conversion.Operand;
            }

            return operation;
        }

        private static LayerSpec? ParseLayer(IOperation element, string experiment, string position, INamedTypeSymbol owner, List<DiagnosticInfo> diagnostics)
        {
            IOperation? operation = Unwrap(element);
            LocationInfo? location = Locate(element.Syntax.GetLocation());
            if (operation is not IObjectCreationOperation creation || creation.Type is null ||
                creation.Type.ContainingNamespace?.ToDisplayString() != "Experiments.Layers" ||
                !System.Enum.TryParse(creation.Type.Name == "ActivationLayer" ? "Activation" : creation.Type.Name, out LayerKind kind))
            {
                diagnostics.Add(Diagnostic("EXP0011", location, experiment, $"layer {position} is not a 'new' layer from Experiments.Layers"));
                return null;
            }

            var values = new Dictionary<string, object?>();
            var children = new List<LayerSpec>();
            foreach (IArgumentOperation argument in creation.Arguments)
            {
                string parameter = argument.Parameter?.Name ?? "";
                if (argument.ArgumentKind == ArgumentKind.ParamArray || argument.Parameter?.Type is IArrayTypeSymbol)
                {
                    List<IOperation> nested = Elements(argument.Value) ?? new List<IOperation>();
                    for (int i = 0; i < nested.Count; i++)
                    {
                        LayerSpec? child = ParseLayer(nested[i], experiment, $"{position}.{i + 1}", owner, diagnostics);
                        if (child is not null)
                        {
                            children.Add(child);
                        }
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

                values[parameter] = constant.Value;
            }

            int Int(string key, int fallback = 0) => values.TryGetValue(key, out object? v) && v is int n ? n : fallback;
            double Double(string key) => values.TryGetValue(key, out object? v) && v is double x ? x : 0.0;

            int kernel = Int("Kernel");
            int stride = Int("Stride", kind == LayerKind.MaxPool2D ? 0 : 1);
            int pool = Int("Pool", 2);
            string method = values.TryGetValue("Method", out object? m) ? m as string ?? "" : "";
            if (kind == LayerKind.Function)
            {
                CheckFunction(owner, method, experiment, position, location, diagnostics);
            }

            return kind switch
            {
                LayerKind.MaxPool2D => new LayerSpec(kind, 0, pool, pool, stride == 0 ? pool : stride, stride == 0 ? pool : stride, Int("Padding"), 0, 0, 0, "", default, location),
                LayerKind.Conv2D => new LayerSpec(
                    kind, Int("Filters"), kernel, Int("KernelWidth") == 0 ? kernel : Int("KernelWidth"), stride, Int("StrideWidth") == 0 ? stride : Int("StrideWidth"),
                    Int("Padding"), Int("Activation"), 0, 0, "", default, location),
                LayerKind.SimpleRnn => new LayerSpec(kind, Int("Units"), 0, 0, 0, 0, 0, Int("Activation", 3), 0, 0, "", default, location),
                _ => new LayerSpec(kind, Int("Units"), 0, 0, 0, 0, 0, Int("Activation"), Double("Rate"), Int("Axis", -1), method, EquatableArray.From(children), location),
            };
        }

        private static void CheckFunction(INamedTypeSymbol owner, string method, string experiment, string position, LocationInfo? location, List<DiagnosticInfo> diagnostics)
        {
            List<IMethodSymbol> candidates = owner.GetMembers(method).OfType<IMethodSymbol>().ToList();
            string? problem = null;
            if (candidates.Count == 0)
            {
                problem = $"'{owner.Name}' has no method '{method}'";
            }
            else if (!candidates.Any(c => c.IsStatic && c.Parameters.Length == 1 && IsTensor(c.Parameters[0].Type) && IsTensor(c.ReturnType)))
            {
                problem = $"'{owner.Name}.{method}' must be static, take one Tensor and return a Tensor";
            }

            if (problem is not null)
            {
                diagnostics.Add(Diagnostic("EXP0010", location, experiment, position, problem, method.Length > 0 ? method : "Normalize"));
            }
        }

        private static bool IsTensor(ITypeSymbol type) => type.ToDisplayString() == "TorchSharp.torch.Tensor";

        internal static DiagnosticInfo Diagnostic(string id, LocationInfo? location, params string[] arguments) =>
            new(id, location, EquatableArray.From(arguments));

        private static LocationInfo? Locate(Location location)
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
