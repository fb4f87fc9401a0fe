using Experiments.Generators.Models;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Experiments.Generators.Tests;

/// <summary>The pipeline's caching: what an edit re-reads, re-plans and re-emits.</summary>
public sealed class IncrementalTests
{
    private static string Experiment(string name, string className, int epochs) => GeneratorHarness.Usings + $$"""
        namespace Inc;
        [Experiment("{{name}}", Dataset.Mnist, Input.Flat, Epochs = {{epochs}})]
        public sealed partial class {{className}}
        {
            private static readonly Layer[] Layers = [new Dense(10, Activation.Softmax)];
        }
        """;

    private const string Unrelated = "namespace Other; public static class A { }";

    private static CSharpCompilation Replace(CSharpCompilation compilation, int index, string source) => compilation.ReplaceSyntaxTree(
        compilation.SyntaxTrees.ElementAt(index),
        CSharpSyntaxTree.ParseText(source, (CSharpParseOptions)compilation.SyntaxTrees.First().Options, path: compilation.SyntaxTrees.ElementAt(index).FilePath));

    private static IncrementalStepRunReason[] Reasons(GeneratorRunResult result, string step) =>
        result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();

    /// <summary>The reasons of the per-experiment source outputs (the registry's and the configuration check's are separate steps).</summary>
    private static Dictionary<string, IncrementalStepRunReason> Planned(GeneratorRunResult result) => result.TrackedSteps[ExperimentGenerator.TrackingNames.Models]
        .SelectMany(s => s.Outputs)
        .ToDictionary(o => ((ExperimentModel)o.Value).Name, o => o.Reason);

    [Fact]
    public void Editing_an_unrelated_file_re_plans_and_re_emits_nothing()
    {
        CSharpCompilation compilation = GeneratorHarness.Compilation(Experiment("inc-a", "A", 1), Experiment("inc-b", "B", 1), Unrelated);
        GeneratorDriver driver = GeneratorHarness.Driver().RunGenerators(compilation);
        GeneratorRunResult second = driver.RunGenerators(Replace(compilation, 2, "namespace Other; public static class A { public const int B = 1; }")).GetRunResult().Results.Single();

        Assert.All(Reasons(second, ExperimentGenerator.TrackingNames.Experiments), r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
        Assert.Equal(new Dictionary<string, IncrementalStepRunReason> { ["inc-a"] = IncrementalStepRunReason.Cached, ["inc-b"] = IncrementalStepRunReason.Cached }, Planned(second));
        Assert.All(second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void Editing_one_experiment_re_plans_and_re_emits_only_that_one()
    {
        CSharpCompilation compilation = GeneratorHarness.Compilation(Experiment("inc-a", "A", 1), Experiment("inc-b", "B", 1), Unrelated);
        GeneratorDriver driver = GeneratorHarness.Driver().RunGenerators(compilation);
        GeneratorRunResult second = driver.RunGenerators(Replace(compilation, 0, Experiment("inc-a", "A", 2))).GetRunResult().Results.Single();

        Assert.Equal(new Dictionary<string, IncrementalStepRunReason> { ["inc-a"] = IncrementalStepRunReason.Modified, ["inc-b"] = IncrementalStepRunReason.Cached }, Planned(second));

        // The per-experiment source output: A's file again, B's from the cache.
        var emitted = second.TrackedOutputSteps["SourceOutput"].SelectMany(s => s.Outputs).ToList();
        Assert.Contains(emitted, o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains(second.GeneratedSources, s => s.HintName == "Inc.A.g.cs" && s.SourceText.ToString().Contains("epochs: 2,", StringComparison.Ordinal));
    }

    [Fact]
    public void Editing_a_base_in_another_file_re_plans_its_variant()
    {
        string variant = GeneratorHarness.Usings + """
            namespace Inc;
            [Experiment("inc-variant", BasedOn = typeof(A), Optimizer = Optimizer.Adam)]
            public sealed partial class Variant;
            """;
        CSharpCompilation compilation = GeneratorHarness.Compilation(Experiment("inc-a", "A", 1), variant, Unrelated);
        GeneratorDriver driver = GeneratorHarness.Driver().RunGenerators(compilation);
        GeneratorRunResult second = driver.RunGenerators(Replace(compilation, 0, Experiment("inc-a", "A", 3))).GetRunResult().Results.Single();

        Assert.Equal(IncrementalStepRunReason.Modified, Planned(second)["inc-variant"]);
        Assert.Contains(second.GeneratedSources, s => s.HintName == "Inc.Variant.g.cs" && s.SourceText.ToString().Contains("epochs: 3,", StringComparison.Ordinal));
    }

    [Fact]
    public void Pipeline_models_hold_no_symbols_syntax_or_compilations()
    {
        foreach ((Type root, Type reached) in new[] { (typeof(ExperimentSpec), typeof(LayerSpec)), (typeof(ExperimentModel), typeof(ForwardStep)) })
        {
            var seen = new HashSet<Type>();
            var pending = new Stack<Type>([root]);
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
                Assert.False(type == typeof(Location) || type == typeof(SyntaxTree) || type == typeof(object), $"{type} ties the model to a syntax tree or compares by reference");
                foreach (System.Reflection.PropertyInfo property in type.GetProperties())
                {
                    pending.Push(property.PropertyType);
                }

                foreach (Type argument in type.GetGenericArguments())
                {
                    pending.Push(argument);
                }
            }

            Assert.Contains(reached, seen);
        }
    }
}
