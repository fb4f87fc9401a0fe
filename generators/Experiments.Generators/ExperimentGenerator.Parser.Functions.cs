using System.Collections.Generic;
using System.Linq;
using Experiments.Generators.Models;
using Microsoft.CodeAnalysis;

namespace Experiments.Generators;

public sealed partial class ExperimentGenerator
{
    internal static partial class Parser
    {
        /// <summary>Reshape's dimensions: constants, as every layer argument (a non-constant one is reported at itself).</summary>
        private static List<int> Dimensions(IOperation value, string experiment, string position, string kind, string parameter, LocationInfo? location, List<DiagnosticInfo> diagnostics)
        {
            IEnumerable<IOperation> dimensions = Unwrap(value) switch
            {
                Microsoft.CodeAnalysis.Operations.IArrayCreationOperation array => array.Initializer?.ElementValues ?? Enumerable.Empty<IOperation>(),
                Microsoft.CodeAnalysis.Operations.ICollectionExpressionOperation collection => collection.Elements,
                _ => Enumerable.Empty<IOperation>(),
            };
            var shape = new List<int>();
            foreach (IOperation dimension in dimensions)
            {
                if (dimension.ConstantValue is { HasValue: true, Value: int d })
                {
                    shape.Add(d);
                }
                else
                {
                    diagnostics.Add(Diagnostic(DiagnosticDescriptors.NotConstant, Locate(dimension.Syntax.GetLocation()) ?? location, experiment, position, kind, parameter));
                }
            }

            return shape;
        }

        /// <summary>A Function layer's method: found, static, Tensor to Tensor, and reachable from the generated code.</summary>
        private static void CheckFunction(string experiment, ITypeSymbol? owner, INamedTypeSymbol? declaring, string method, string position, LocationInfo? location, List<DiagnosticInfo> diagnostics)
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
                diagnostics.Add(Diagnostic(DiagnosticDescriptors.BadFunction, location, experiment, position, problem, method.Length > 0 ? method : "Normalize"));
            }
        }
    }
}
