using Experiments.Generators.Models;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Experiments.Generators.Tests;

public sealed class IncrementalTests
{
    private const string Declaration = GeneratorHarness.Usings + """
        namespace Inc;
        [Experiment("inc", Dataset.Mnist, Input.Flat)]
        public sealed partial class Inc
        {
            private static readonly Layer[] Layers = [new Dense(10, Activation.Softmax)];
        }
        """;

    [Fact]
    public void Editing_an_unrelated_file_leaves_the_parsed_experiments_cached()
    {
        CSharpCompilation compilation = GeneratorHarness.Compilation(Declaration, "namespace Other; public static class A { }");
        GeneratorDriver driver = GeneratorHarness.Driver().RunGenerators(compilation);
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(
            compilation.SyntaxTrees.Last(),
            CSharpSyntaxTree.ParseText("namespace Other; public static class A { public const int B = 1; }", (CSharpParseOptions)compilation.SyntaxTrees.First().Options, path: "Experiment1.cs"));
        GeneratorRunResult second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        var steps = second.TrackedSteps[ExperimentGenerator.TrackingNames.Experiments];
        Assert.NotEmpty(steps);
        Assert.All(steps.SelectMany(s => s.Outputs), o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));
        Assert.All(second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void Pipeline_models_hold_no_symbols_syntax_or_compilations()
    {
        var seen = new HashSet<Type>();
        var pending = new Stack<Type>([typeof(ExperimentSpec)]);
        while (pending.Count > 0)
        {
            Type type = pending.Pop();
            if (!seen.Add(type) || type.IsPrimitive || type == typeof(string) || type.IsEnum)
            {
                continue;
            }

            Assert.False(typeof(ISymbol).IsAssignableFrom(type), $"{type} is a symbol");
            Assert.False(typeof(SyntaxNode).IsAssignableFrom(type), $"{type} is a syntax node");
            Assert.False(typeof(Compilation).IsAssignableFrom(type), $"{type} is a compilation");
            Assert.False(type == typeof(Location) || type == typeof(SyntaxTree), $"{type} ties the model to a syntax tree");
            foreach (System.Reflection.PropertyInfo property in type.GetProperties())
            {
                pending.Push(property.PropertyType);
            }

            foreach (Type argument in type.GetGenericArguments())
            {
                pending.Push(argument);
            }
        }

        Assert.Contains(typeof(LayerSpec), seen);
    }
}
