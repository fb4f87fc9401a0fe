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
        private static readonly Regex NamePattern = new("^[a-z0-9]+(-[a-z0-9]+)*$");

        private static readonly ExperimentSettings Defaults = new(
            Dataset.Mnist, Input.Flat, Optimizer.RmsProp, 0.0, 0.0, Loss.CategoricalCrossEntropy, 32, 1, Validation.None, 0.0, 0, false, "");

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
            Diagnostic(DiagnosticDescriptors.InternalError, location, experiment, $"{e.GetType().Name}: {e.Message}");

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
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.NotATopLevelClass, classLocation, label, shape));
            }
            else if (!syntax.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.NotPartial, classLocation, type.Name));
            }

            if (!NamePattern.IsMatch(name))
            {
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.BadName, classLocation, name));
            }

            var reader = new DeclarationReader(context.SemanticModel.Compilation, label, cancellationToken);
            Declaration? declaration = reader.Read(type, attribute, classLocation, diagnostics, new List<INamedTypeSymbol>());
            ExperimentSettings settings = declaration?.Settings ?? Defaults;
            if (declaration is not null)
            {
                DataProblems(settings, label, classLocation, diagnostics);
            }

            List<SweepPoint> points = diagnostics.Count == 0 ? Sweeps(type, name, settings, classLocation, diagnostics) : new List<SweepPoint>();
            DeclaredChecks checks = Checks(type, label, classLocation, diagnostics);
            TrainingControlsSpec controls = Controls(type, label, classLocation, diagnostics);
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
                Controls = controls,
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

        /// <summary>
        /// An attribute's enum argument as the declared enum's member; a value the enum does not define is reported
        /// (EXP0016, naming <paramref name="what"/>) and gives null.
        /// </summary>
        private static T? DeclaredEnum<T>(TypedConstant value, LocationInfo? location, string experiment, string what, List<DiagnosticInfo> diagnostics)
            where T : struct
        {
            if (EnumProblem(value.Type, value.Value) is { } allowed)
            {
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.EnumOutOfRange, location, experiment, what, Value(value.Value), typeof(T).Name, allowed));
                return null;
            }

            return System.Enum.TryParse(MemberName(value.Type!, value.Value), out T parsed) ? parsed : null;
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

        internal static DiagnosticInfo Diagnostic(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] arguments) =>
            new(descriptor, location, EquatableArray.From(arguments));

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
