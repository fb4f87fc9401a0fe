using System.Collections.Generic;
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
            var type = (INamedTypeSymbol)context.TargetSymbol;
            var syntax = (ClassDeclarationSyntax)context.TargetNode;
            AttributeData attribute = context.Attributes[0];
            var diagnostics = new List<DiagnosticInfo>();
            LocationInfo? classLocation = Locate(syntax.Identifier.GetLocation());

            string name = attribute.ConstructorArguments.Length > 0 ? attribute.ConstructorArguments[0].Value as string ?? "" : "";
            int dataset = attribute.ConstructorArguments.Length > 1 && attribute.ConstructorArguments[1].Value is int d ? d : 0;
            int input = attribute.ConstructorArguments.Length > 2 && attribute.ConstructorArguments[2].Value is int i ? i : 0;
            T Named<T>(string key, T fallback) =>
                attribute.NamedArguments.FirstOrDefault(a => a.Key == key).Value.Value is T value ? value : fallback;

            if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword))
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

        private static ExpressionSyntax? FindLayers(ClassDeclarationSyntax syntax)
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
