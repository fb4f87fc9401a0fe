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
                        diagnostics.Add(Diagnostic(DiagnosticDescriptors.UnknownDataset, location, experiment, dataset.ToString(CultureInfo.InvariantCulture)));
                    }
                    else if (EnumProblem(argument.Value.Type, argument.Value.Value) is { } allowed)
                    {
                        diagnostics.Add(Diagnostic(DiagnosticDescriptors.EnumOutOfRange, location, experiment, Pascal(argument.Key), Value(argument.Value.Value), argument.Value.Type!.Name, allowed));
                    }
                }

                ExperimentSettings settings = Defaults;
                List<LayerSpec>? inherited = null;
                if (arguments.TryGetValue("BasedOn", out TypedConstant basedOn) && basedOn.Value is not null)
                {
                    if (basedOn.Value is not INamedTypeSymbol baseType || ExperimentAttributeOf(baseType) is not { } baseAttribute)
                    {
                        diagnostics.Add(Diagnostic(DiagnosticDescriptors.BadBase, location, experiment, $"BasedOn names '{Value(basedOn.Value)}', which is not an [Experiment] class", "name an [Experiment] class: BasedOn = typeof(MyBase)"));
                        return null;
                    }

                    if (chain.Contains(baseType, SymbolEqualityComparer.Default))
                    {
                        string cycle = string.Join(" -> ", chain.Concat(new[] { baseType }).Select(t => t.Name));
                        diagnostics.Add(Diagnostic(DiagnosticDescriptors.BadBase, location, experiment, $"BasedOn forms a cycle ({cycle})", "let one of them declare its own dataset, input and layers"));
                        return null;
                    }

                    var baseDiagnostics = new List<DiagnosticInfo>();
                    Declaration? baseDeclaration = Read(baseType, baseAttribute, location, baseDiagnostics, chain);
                    if (baseDiagnostics.Count > 0 || baseDeclaration is null)
                    {
                        // The base reports its own errors; the variant says where they come from, once.
                        bool cycle = baseDiagnostics.Any(d => d.Descriptor == DiagnosticDescriptors.BadBase);
                        diagnostics.Add(cycle ? baseDiagnostics.First(d => d.Descriptor == DiagnosticDescriptors.BadBase) with { Location = location } : Diagnostic(DiagnosticDescriptors.BadBase, location, experiment, $"its base '{baseType.Name}' has errors", "fix the base's errors first"));
                        return null;
                    }

                    settings = baseDeclaration.Settings;
                    inherited = baseDeclaration.Layers;
                }
                else if (!arguments.ContainsKey("dataset") || !arguments.ContainsKey("input"))
                {
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.BadBase, location, experiment, "it names neither a dataset and input nor a base", "use [Experiment(name, Dataset.Mnist, Input.Flat, ...)] or [Experiment(name, BasedOn = typeof(Other), ...)]"));
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
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.NoLayers, location, experiment, "no 'Layers' member with an initializer was found"));
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
                    if (!diagnostics.Any(d => d.Descriptor == DiagnosticDescriptors.NoLayers))
                    {
                        diagnostics.Add(Diagnostic(DiagnosticDescriptors.NoLayers, Locate(initializer.GetLocation()) ?? location, experiment, "'Layers' is empty or not an array of layers"));
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
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.NoLayers, at, experiment, $"'{display}' is not static and read-only; a layer block is 'static readonly Layer[]'"));
                    return null;
                }

                if (blocks.Contains(member, SymbolEqualityComparer.Default))
                {
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.NoLayers, at, experiment, $"'{display}' includes itself ({string.Join(" -> ", blocks.Select(b => b.Name).Concat(new[] { member.Name }))})"));
                    return null;
                }

                if (Initializer(member) is not { } initializer)
                {
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.NoLayers, at, experiment, $"'{display}' has no initializer in this project; a layer block is 'static readonly Layer[] {member.Name} = [ ... ];'"));
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
                    if (!diagnostics.Any(d => d.Descriptor == DiagnosticDescriptors.NoLayers))
                    {
                        diagnostics.Add(Diagnostic(DiagnosticDescriptors.NoLayers, at, experiment, $"'{display}' is not an array of layers"));
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
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.NoLayers, location, experiment, $"layer {position} is nested more than 32 deep (does a shared layer include itself?)"));
                    return null;
                }

                if (operation is not IObjectCreationOperation creation || creation.Type is null ||
                    creation.Type.ContainingNamespace?.ToDisplayString() != "Experiments.Layers" ||
                    !System.Enum.TryParse(creation.Type.Name == "ActivationLayer" ? "Activation" : creation.Type.Name, out LayerKind kind))
                {
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.NoLayers, location, experiment, $"layer {position} is not a 'new' layer from Experiments.Layers"));
                    return null;
                }

                var values = new Dictionary<string, object?>();
                var children = new List<LayerSpec>();
                var shape = new List<int>();
                ITypeSymbol? owner = null;
                foreach (IArgumentOperation argument in creation.Arguments)
                {
                    // Records' primary parameters are PascalCase, extra constructors' camelCase: one key for both.
                    string parameter = Pascal(argument.Parameter?.Name ?? "");
                    if (argument.Parameter?.Type is IArrayTypeSymbol { ElementType.SpecialType: SpecialType.System_Int32 })
                    {
                        shape.AddRange(Dimensions(argument.Value, experiment, position, kind.ToString(), parameter, location, diagnostics));
                        continue;
                    }

                    if (argument.Parameter?.Type.ToDisplayString() == "Experiments.Layers.Layer")
                    {
                        children.AddRange(ParseLayer(argument.Value, $"{position}.1", diagnostics, blocks) is { } wrapped ? new[] { wrapped } : System.Array.Empty<LayerSpec>());
                        continue;
                    }

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
                            diagnostics.Add(Diagnostic(DiagnosticDescriptors.NotConstant, Locate(argument.Syntax.GetLocation()) ?? location, experiment, position, kind.ToString(), parameter));
                        }

                        continue;
                    }

                    Optional<object?> constant = argument.Value.ConstantValue;
                    if (!constant.HasValue)
                    {
                        diagnostics.Add(Diagnostic(DiagnosticDescriptors.NotConstant, Locate(argument.Syntax.GetLocation()) ?? location, experiment, position, kind.ToString(), parameter));
                        continue;
                    }

                    if (EnumProblem(argument.Parameter?.Type, constant.Value) is { } allowed)
                    {
                        diagnostics.Add(Diagnostic(DiagnosticDescriptors.EnumOutOfRange, Locate(argument.Syntax.GetLocation()) ?? location, experiment, $"layer {position} ({kind}), {parameter}", Value(constant.Value), argument.Parameter!.Type.Name, allowed));
                        continue;
                    }

                    values[parameter] = argument.Parameter?.Type.TypeKind == TypeKind.Enum ? MemberName(argument.Parameter.Type, constant.Value) : constant.Value;
                }

                int Int(string key, int fallback = 0) => values.TryGetValue(key, out object? v) && v is int n ? n : fallback;
                double Double(string key) => values.TryGetValue(key, out object? v) && v is double x ? x : 0.0;
                bool Flag(string key) => values.TryGetValue(key, out object? v) && v is true;
                Activation ActivationOr(Activation fallback) =>
                    values.TryGetValue("Activation", out object? v) && v is string member && System.Enum.TryParse(member, out Activation a) ? a : fallback;
                Padding PaddingOrValid() => values.TryGetValue("Padding", out object? v) && v is string member && System.Enum.TryParse(member, out Padding p) ? p : Padding.Valid;

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
                    CheckFunction(experiment, resolvedOwner, declaring, method, position, location, diagnostics);
                }

                int poolStride = stride == 0 ? pool : stride;
                var spec = new LayerSpec(kind, location) { Children = EquatableArray.From(children) };
                return kind switch
                {
                    LayerKind.MaxPool2D or LayerKind.AveragePooling2D => spec with
                    {
                        KernelHeight = pool, KernelWidth = pool, StrideHeight = poolStride, StrideWidth = poolStride, Padding = PaddingOrValid(),
                    },
                    LayerKind.Conv2D => spec with
                    {
                        Units = Int("Filters"), KernelHeight = kernel, KernelWidth = Int("KernelWidth") == 0 ? kernel : Int("KernelWidth"),
                        StrideHeight = stride, StrideWidth = Int("StrideWidth") == 0 ? stride : Int("StrideWidth"), Padding = PaddingOrValid(), Activation = ActivationOr(Activation.None),
                        L1 = Double("L1"), L2 = Double("L2"),
                    },
                    LayerKind.Conv1D => spec with
                    {
                        Units = Int("Filters"), KernelHeight = 1, KernelWidth = kernel, StrideHeight = 1, StrideWidth = Int("Stride", 1), Padding = PaddingOrValid(),
                        Activation = ActivationOr(Activation.None), L1 = Double("L1"), L2 = Double("L2"),
                    },
                    LayerKind.MaxPool1D => spec with
                    {
                        KernelHeight = 1, KernelWidth = pool, StrideHeight = 1, StrideWidth = Int("Stride") == 0 ? pool : Int("Stride"), Padding = PaddingOrValid(),
                    },
                    LayerKind.SimpleRnn => spec with { Units = Int("Units"), Activation = ActivationOr(Activation.Tanh), ReturnSequences = Flag("ReturnSequences") },
                    LayerKind.RandomFlip => spec with
                    {
                        Flip = values.TryGetValue("Mode", out object? mode) && mode is string member && System.Enum.TryParse(member, out FlipMode flip) ? flip : FlipMode.HorizontalAndVertical,
                    },
                    LayerKind.RandomRotation => spec with { Factor = Double("Factor") },
                    LayerKind.RandomTranslation or LayerKind.RandomZoom => spec with { Factor = Double("Height"), FactorWidth = Double("Width") },
                    LayerKind.Reshape => spec with { Shape = EquatableArray.From(shape) },
                    _ => spec with
                    {
                        Units = Int("Units"), Activation = ActivationOr(Activation.None), Rate = Double("Rate"), Axis = Int("Axis", -1), Method = method, MethodOwner = methodOwner,
                        ReturnSequences = Flag("ReturnSequences"), L1 = Double("L1"), L2 = Double("L2"),
                    },
                };
            }
        }
    }
}
