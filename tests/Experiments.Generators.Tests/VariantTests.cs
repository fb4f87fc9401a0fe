using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Xunit;

namespace Experiments.Generators.Tests;

/// <summary>Experiments derived from experiments (BasedOn), shared layer blocks (spreads), Functions of other classes.</summary>
public sealed class VariantTests
{
    private const string Base = GeneratorHarness.Usings + """
        namespace Demo;
        [Experiment("base", Dataset.FashionMnist, Input.Image, Optimizer = Optimizer.Sgd, LearningRate = 0.05, BatchSize = 100, Epochs = 4, Seed = 2, Description = "the base")]
        public sealed partial class Base
        {
            private static readonly Layer[] Layers = [new Conv2D(4, 3, Activation: Activation.Relu), new MaxPool2D(2), new Flatten(), new Dense(10, Activation.Softmax)];
        }
        """;

    private static string Source(ImmutableArray<GeneratedSourceResult> sources, string hint) => sources.Single(s => s.HintName == hint).SourceText.ToString();

    /// <summary>The generated text from the settings down, with the experiment's own name blanked out.</summary>
    private static string Model(string source, string name) => source[source.IndexOf("public global::Experiments.Runtime.Training.TrainingSettings", StringComparison.Ordinal)..].Replace($"\"{name}\"", "\"NAME\"", StringComparison.Ordinal);

    [Fact]
    public void A_variant_takes_the_bases_layers_and_settings_and_overrides_only_what_it_sets()
    {
        string variant = GeneratorHarness.Usings + """
            namespace Demo;
            [Experiment("variant", BasedOn = typeof(Base), Optimizer = Optimizer.Adam, Epochs = 6)]
            public sealed partial class Variant;
            """;
        var (generator, sources, compiler) = GeneratorHarness.Run(Base, variant);
        Assert.Empty(generator);
        Assert.Empty(compiler);
        string generated = Source(sources, "Demo.Variant.g.cs");
        Assert.Contains("optimizer: global::Experiments.Runtime.Training.OptimizerSettings.Adam(learningRate: 0.05),", generated, StringComparison.Ordinal);
        Assert.Contains("batchSize: 100,", generated, StringComparison.Ordinal);
        Assert.Contains("epochs: 6,", generated, StringComparison.Ordinal);
        Assert.Contains("seed: 2);", generated, StringComparison.Ordinal);
        Assert.Contains("global::Experiments.Dataset.FashionMnist,", generated, StringComparison.Ordinal);

        // Its own description (none given): a variant does not inherit the base's one line.
        Assert.DoesNotContain("the base", generated, StringComparison.Ordinal);

        // The model itself is the base's, layer for layer.
        // The exports after it name the experiment and its fingerprint in the PyTorch module's comment, so they stop the comparison.
        string Forward(string s) => s[s.IndexOf("private sealed class Model", StringComparison.Ordinal)..s.IndexOf("public string? ExportProblem", StringComparison.Ordinal)].Replace("\"variant\"", "\"base\"", StringComparison.Ordinal);
        Assert.Equal(Forward(Source(sources, "Demo.Base.g.cs")), Forward(generated));
    }

    [Fact]
    public void Variants_chain_and_a_variant_may_declare_its_own_layers()
    {
        string chain = GeneratorHarness.Usings + """
            namespace Demo;
            [Experiment("middle", BasedOn = typeof(Base), BatchSize = 50)]
            public sealed partial class Middle;

            [Experiment("leaf", BasedOn = typeof(Middle), Seed = 9)]
            public sealed partial class Leaf
            {
                private static readonly Layer[] Layers = [new Flatten(), new Dense(10, Activation.Softmax)];
            }
            """;
        var (generator, sources, compiler) = GeneratorHarness.Run(Base, chain);
        Assert.Empty(generator);
        Assert.Empty(compiler);
        string leaf = Source(sources, "Demo.Leaf.g.cs");
        Assert.Contains("batchSize: 50,", leaf, StringComparison.Ordinal);
        Assert.Contains("seed: 9);", leaf, StringComparison.Ordinal);
        Assert.Contains("OptimizerSettings.Sgd(learningRate: 0.05)", leaf, StringComparison.Ordinal);
        Assert.DoesNotContain("conv2d", leaf, StringComparison.Ordinal);
        Assert.Contains("dense = nn.Linear(784, 10);", leaf, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> BadVariants => new()
    {
        {
            """
            [Experiment("a", BasedOn = typeof(B))] public sealed partial class A;
            [Experiment("b", BasedOn = typeof(A))] public sealed partial class B;
            """,
            "BasedOn forms a cycle (A -> B -> A)", "A"
        },
        {
            """
            public sealed class NotAnExperiment { }
            [Experiment("a", BasedOn = typeof(NotAnExperiment))] public sealed partial class A;
            """,
            "BasedOn names 'Demo.NotAnExperiment', which is not an [Experiment] class", "A"
        },
        {
            """
            [Experiment("a")] public sealed partial class A { private static readonly Layer[] Layers = [new Dense(10, Activation.Softmax)]; }
            """,
            "it names neither a dataset and input nor a base", "A"
        },
        {
            """
            [Experiment("broken", Dataset.Mnist, Input.Flat)] public sealed partial class Broken { private static readonly Layer[] Layers = [new Dense(10, (Activation)90)]; }
            [Experiment("a", BasedOn = typeof(Broken))] public sealed partial class A;
            """,
            "its base 'Broken' has errors; fix the base's errors first", "A"
        },
    };

    [Theory]
    [MemberData(nameof(BadVariants))]
    public void A_variant_that_cannot_be_resolved_is_EXP0019_on_the_variant(string declarations, string message, string locatedAt)
    {
        string source = GeneratorHarness.Usings + "namespace Demo;\n" + declarations;
        var (generator, _, _) = GeneratorHarness.Run(source);
        Diagnostic diagnostic = Assert.Single(generator, d => d.Id == "EXP0019" && d.GetMessage(System.Globalization.CultureInfo.InvariantCulture).Contains(message, StringComparison.Ordinal));
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(locatedAt, source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
    }

    [Fact]
    public void Spread_blocks_give_the_same_model_as_the_layers_written_out()
    {
        string blocks = GeneratorHarness.Usings + """
            namespace Shared;
            public static class Blocks
            {
                public static readonly Layer[] Stem = [new Conv2D(4, 3, Padding: Padding.Same, Activation: Activation.Relu), new MaxPool2D(2)];
                public static readonly Layer Pool = new MaxPool2D(2);
                public static Layer[] Head => [new Flatten(), new Dense(10, Activation.Softmax)];
            }
            """;
        string spread = GeneratorHarness.Usings + """
            namespace Demo;
            [Experiment("same", Dataset.Mnist, Input.Image)]
            public sealed partial class Same
            {
                private static readonly Layer[] Layers = [.. Shared.Blocks.Stem, new Concatenate(new Sequence([.. Shared.Blocks.Stem]), new Sequence(Shared.Blocks.Pool)), .. Shared.Blocks.Head];
            }
            """;
        string written = GeneratorHarness.Usings + """
            namespace Demo;
            [Experiment("same", Dataset.Mnist, Input.Image)]
            public sealed partial class Same
            {
                private static readonly Layer[] Layers =
                [
                    new Conv2D(4, 3, Padding: Padding.Same, Activation: Activation.Relu), new MaxPool2D(2),
                    new Concatenate(new Sequence(new Conv2D(4, 3, Padding: Padding.Same, Activation: Activation.Relu), new MaxPool2D(2)), new Sequence(new MaxPool2D(2))),
                    new Flatten(), new Dense(10, Activation.Softmax),
                ];
            }
            """;
        var (generator, sources, compiler) = GeneratorHarness.Run(spread, blocks);
        Assert.Empty(generator);
        Assert.Empty(compiler);
        var (_, expected, _) = GeneratorHarness.Run(written);
        Assert.Equal(Source(expected, "Demo.Same.g.cs"), Source(sources, "Demo.Same.g.cs"));
    }

    [Fact]
    public void A_problem_inside_a_block_points_at_the_line_in_the_block()
    {
        string blocks = "using Experiments.Layers;\nnamespace Shared;\npublic static class Blocks\n{\n    public static readonly Layer[] Recurrent = [new Lstm(8)];\n}\n";
        string experiment = GeneratorHarness.Usings + """
            namespace Demo;
            [Experiment("image-into-lstm", Dataset.Mnist, Input.Image)]
            public sealed partial class Demo
            {
                private static readonly Layer[] Layers = [.. Shared.Blocks.Recurrent, new Dense(10, Activation.Softmax)];
            }
            """;
        var (generator, _, _) = GeneratorHarness.Run(experiment, blocks);
        Diagnostic diagnostic = Assert.Single(generator, d => d.Id == "EXP0005");
        Assert.Equal("Experiment1.cs", diagnostic.Location.SourceTree?.FilePath ?? diagnostic.Location.GetLineSpan().Path);
        Assert.Equal(4, diagnostic.Location.GetLineSpan().StartLinePosition.Line);
        Assert.Equal("new Lstm(8)", blocks.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
    }

    public static TheoryData<string, string, string> BadBlocks => new()
    {
        { "public static Layer[] Stem = [new Flatten()];", "'Blocks.Stem' is not static and read-only", "Blocks.Stem" },
        { "public static readonly Layer[] Stem = [.. Stem];", "'Blocks.Stem' includes itself (Layers -> Stem -> Stem)", "Stem" },
        { "public static readonly Layer[] Stem = Make();\n    private static Layer[] Make() => [];", "'Blocks.Stem' is not an array of layers", "Blocks.Stem" },
    };

    [Theory]
    [MemberData(nameof(BadBlocks))]
    public void A_block_that_is_not_a_constant_layer_array_is_EXP0011_at_the_spread(string block, string message, string locatedAt)
    {
        string source = GeneratorHarness.Usings + $$"""
            namespace Demo;
            public static class Blocks
            {
                {{block}}
            }

            [Experiment("demo", Dataset.Mnist, Input.Flat)]
            public sealed partial class Demo
            {
                private static readonly Layer[] Layers = [.. Blocks.Stem, new Dense(10, Activation.Softmax)];
            }
            """;
        var (generator, _, _) = GeneratorHarness.Run(source);
        Diagnostic diagnostic = Assert.Single(generator, d => d.Id == "EXP0011");
        Assert.Contains(message, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Equal(locatedAt, source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
    }

    [Fact]
    public void A_function_may_name_a_static_method_of_another_class()
    {
        string source = GeneratorHarness.Usings + """
            namespace Demo;
            public static class Preprocessing
            {
                public static Tensor Halve(Tensor x) => x / 2;
                private static Tensor Hidden(Tensor x) => x;
            }

            [Experiment("demo", Dataset.Mnist, Input.Flat)]
            public sealed partial class Demo
            {
                private static readonly Layer[] Layers = [new Function(typeof(Preprocessing), nameof(Preprocessing.Halve)), new Dense(10, Activation.Softmax)];
            }
            """;
        var (generator, sources, compiler) = GeneratorHarness.Run(source);
        Assert.Empty(generator);
        Assert.Empty(compiler);
        Assert.Contains("x = global::Demo.Preprocessing.Halve(x);", Source(sources, "Demo.Demo.g.cs"), StringComparison.Ordinal);

        var (hidden, _, _) = GeneratorHarness.Run(source.Replace("nameof(Preprocessing.Halve)", "\"Hidden\"", StringComparison.Ordinal));
        Diagnostic diagnostic = Assert.Single(hidden, d => d.Id == "EXP0010");
        Assert.Contains("'Preprocessing.Hidden' is private; a method of another class must be public or internal", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void The_generator_reads_the_declared_enums_themselves_and_defines_no_copy()
    {
        // One definition of what a value means: the generator references Experiments.Abstractions (netstandard2.0) and
        // maps arguments onto its enums. A mirror enum in the generator could drift from the declared one unnoticed.
        System.Reflection.Assembly generator = typeof(Experiments.Generators.ExperimentGenerator).Assembly;
        Assert.Contains(generator.GetReferencedAssemblies(), a => a.Name == typeof(Dataset).Assembly.GetName().Name);
        HashSet<string> declared = typeof(Dataset).Assembly.GetTypes().Where(t => t.IsEnum)
            .Select(t => string.Join(",", Enum.GetNames(t))).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(declared);
        Assert.DoesNotContain(generator.GetTypes().Where(t => t.IsEnum), t => declared.Contains(string.Join(",", Enum.GetNames(t))));
    }
}
