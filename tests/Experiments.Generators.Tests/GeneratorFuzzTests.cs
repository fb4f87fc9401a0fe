using System.Globalization;
using System.Runtime.Loader;
using System.Text;
using Experiments.Runtime;
using Experiments.Runtime.Native;
using Microsoft.CodeAnalysis;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Experiments.Generators.Tests;

/// <summary>
/// Property-style: many randomly built declarations, valid and invalid. The generator never throws; a declaration
/// with an EXP diagnostic generates no model; one without compiles cleanly, and its model runs forward to 10 logits.
/// </summary>
public sealed class GeneratorFuzzTests(ITestOutputHelper output)
{
    private const int Declarations = 300;
    private const int ExecutedModels = 30;

    private static readonly string[] Activations = ["Activation.None", "Activation.Relu", "Activation.Sigmoid", "Activation.Tanh", "Activation.Softmax"];

    private sealed class Builder(int seed)
    {
        private readonly Random _random = new(seed);

        private T Pick<T>(params T[] items) => items[_random.Next(items.Length)];

        private bool Chance(double p) => _random.NextDouble() < p;

        public string Layer(int depth)
        {
            string activation = Pick(Activations);
            return _random.Next(depth > 0 ? 10 : 11) switch
            {
                0 => $"new Dense({Pick(-1, 1, 7, 32, 32, 64, 64)}, {activation})",
                1 => $"new Conv2D({Pick(0, 1, 2, 4, 4, 8, 8)}, {Pick(1, 3, 3, 5, 5, 40)}, {Pick(0, 0, 2, 3)}, Stride: {Pick(0, 1, 1, 1, 2)}, Padding: {Pick("Padding.Same", "Padding.Same", "Padding.Valid")}, Activation: {activation})",
                2 => $"new MaxPool2D({Pick(0, 2, 2, 2, 3, 30)})",
                3 => "new Flatten()",
                4 => $"new Dropout({Pick("-0.1", "0", "0.25", "0.25", "0.5", "0.5", "1.0")})",
                5 => $"new BatchNormalization({Pick(-1, -1, 1, 7)})",
                6 => $"new Lstm({Pick(0, 4, 16, 16)})",
                7 => Pick($"new SimpleRnn({Pick(0, 8)})", $"new Gru({Pick(0, 8)})"),
                8 => $"new ActivationLayer({activation})",
                9 => "new Function(nameof(Twice))",
                _ => $"new Concatenate({Layer(depth + 1)}, {Layer(depth + 1)})",
            };
        }

        private List<string> WellFormed(string input)
        {
            string activation = Pick("Activation.Relu", "Activation.Tanh", "Activation.Sigmoid");
            var layers = new List<string>();
            if (input == "Input.Image")
            {
                for (int i = _random.Next(1, 3); i > 0; i--)
                {
                    layers.Add(Pick(
                        $"new Conv2D({Pick(2, 4, 8)}, {Pick(3, 5)}, Padding: Padding.Same, Activation: {activation})",
                        $"new Concatenate(new Conv2D(2, 3, 5, Padding: Padding.Same), new Conv2D(2, 5, 3, Padding: Padding.Same))",
                        "new MaxPool2D(2)",
                        "new BatchNormalization(1)"));
                }

                layers.Add("new Flatten()");
            }
            else if (input == "Input.Sequence")
            {
                layers.Add(Pick($"new Lstm({Pick(4, 8)})", $"new Gru({Pick(4, 8)})", $"new SimpleRnn({Pick(4, 8)})"));
            }

            for (int i = _random.Next(0, 3); i > 0; i--)
            {
                layers.Add(Pick($"new Dense({Pick(8, 16, 32)}, {activation})", "new Dropout(0.3)", "new BatchNormalization()", "new Function(nameof(Twice))"));
            }

            return layers;
        }

        public string Declaration(int index)
        {
            string input = Pick("Input.Flat", "Input.Image", "Input.Sequence");
            int count = _random.Next(0, 4);
            // Half the cases follow the shape of a real model (so many are valid), half are layers in any order.
            var layers = Chance(0.5) ? WellFormed(input) : Enumerable.Range(0, count).Select(_ => Layer(0)).ToList();
            if (Chance(0.85))
            {
                layers.Add(Chance(0.9) ? "new Dense(10, Activation.Softmax)" : $"new Dense({Pick(9, 10, 11)}, {Pick(Activations)})");
            }

            if (input != "Input.Flat" && Chance(0.5) && layers.Count > 0)
            {
                layers.Insert(layers.Count - 1, "new Flatten()");
            }

            string name = Chance(0.05) ? "Fuzz Case" : $"fuzz-{index}";
            string settings = string.Join(", ", new[]
            {
                Chance(0.5) ? $"Optimizer = {Pick("Optimizer.Sgd", "Optimizer.Adam", "Optimizer.RmsProp")}" : null,
                Chance(0.2) ? $"LearningRate = {Pick("0.01", "0.05", "-1", "0")}" : null,
                Chance(0.2) ? $"BatchSize = {Pick(0, 1, 32, 64)}" : null,
                Chance(0.2) ? $"Epochs = {Pick(0, 1, 3, 5)}" : null,
                Chance(0.2) ? $"Validation = Validation.KerasTail, ValidationFraction = {Pick("0.2", "0.1", "0", "1.5")}" : null,
                Chance(0.2) ? $"Loss = Loss.MeanSquaredError" : null,
            }.Where(s => s is not null));
            return GeneratorHarness.Usings + $$"""
                namespace Fuzz{{index}};

                [Experiment("{{name}}", {{Pick("Dataset.Mnist", "Dataset.FashionMnist")}}, {{input}}{{(settings.Length > 0 ? ", " + settings : "")}})]
                public sealed partial class Case{{index}}
                {
                    private static readonly Layer[] Layers = [{{string.Join(", ", layers)}}];

                    public static Tensor Twice(Tensor x) => x * 2;
                }
                """;
        }
    }

    /// <summary>What a user's typo produces: a declaration that is wrong in one of the ways C# lets through (or barely).</summary>
    private sealed class Typos(int seed)
    {
        private readonly Random _random = new(seed);

        private T Pick<T>(params T[] items) => items[_random.Next(items.Length)];

        public (string Kind, string Source, bool EnumOutOfRange) Declaration(int index)
        {
            string attribute = $"[Experiment(\"typo-{index}\", Dataset.Mnist, Input.Flat)]";
            string layers = "private static readonly Layer[] Layers = [new Dense(16, Activation.Relu), new Dense(10, Activation.Softmax)];";
            string head = "public sealed partial class";
            string name = $"Case{index}";
            string extra = "";
            string outer = "";
            bool outOfRange = false;
            string kind = Pick("enum-attribute", "enum-layer", "nested", "generic", "record", "struct", "layers-type", "layers-missing", "non-constant", "duplicate-attribute");
            switch (kind)
            {
                case "enum-attribute":
                    attribute = attribute.Replace(")]", $", {Pick("Loss = (Loss)5", "Optimizer = (Optimizer)7", "Optimizer = (Optimizer)(-1)", "Validation = (Validation)4, ValidationFraction = 0.2")})]", StringComparison.Ordinal);
                    attribute = _random.Next(3) == 0 ? attribute.Replace("Input.Flat", Pick("(Input)3", "(Input)(-2)"), StringComparison.Ordinal) : attribute;
                    attribute = _random.Next(4) == 0 ? attribute.Replace("Dataset.Mnist", "(Dataset)2", StringComparison.Ordinal) : attribute;
                    outOfRange = true;
                    break;
                case "enum-layer":
                    layers = $"private static readonly Layer[] Layers = [{Pick("new Dense(16, (Activation)120)", "new ActivationLayer((Activation)(-1))", "new Dense(16, Activation.Relu)")}, new Dense(10, {Pick("(Activation)50", "Activation.Softmax")})];";
                    outOfRange = layers.Contains("(Activation)", StringComparison.Ordinal);
                    break;
                case "nested":
                    outer = Pick("public static partial class Outer", "public sealed partial class Outer<T>");
                    break;
                case "generic":
                    name += Pick("<T>", "<TModel, TData>");
                    break;
                case "record":
                    head = Pick("public sealed partial record", "public sealed partial record class");
                    break;
                case "struct":
                    head = Pick("public partial struct", "public partial record struct", "public readonly partial struct");
                    break;
                case "layers-type":
                    layers = Pick(
                        "private static readonly int[] Layers = [1, 2];",
                        "private static readonly string Layers = \"dense\";",
                        "private static Layer[] Layers() => [new Dense(10, Activation.Softmax)];",
                        "private static readonly object[] Layers = [new Dense(10, Activation.Softmax), 3];",
                        "private static readonly Layer[] Layers = null!;",
                        "private static readonly Layer[] Layers = Other.Layers;");
                    extra = "private static class Other { public static Layer[] Layers = [new Dense(10, Activation.Softmax)]; }";
                    break;
                case "layers-missing":
                    layers = Pick("", "private static readonly Layer[] Layerz = [new Dense(10, Activation.Softmax)];", "private static readonly Layer[] Layers;");
                    break;
                case "non-constant":
                    (attribute, layers) = _random.Next(2) == 0
                        ? (attribute.Replace(")]", ", BatchSize = Size)]", StringComparison.Ordinal), layers)
                        : (attribute, "private static readonly Layer[] Layers = [new Dense(Width, Activation.Relu), new Dense(10, Activation.Softmax)];");
                    extra = "private static int Size = 32; private static int Width = 16;";
                    break;
                default:
                    attribute += "\n" + attribute.Replace($"typo-{index}", $"typo-{index}-again", StringComparison.Ordinal);
                    break;
            }

            string type = $"{attribute}\n{head} {name}\n{{\n    {layers}\n    {extra}\n}}";
            string body = outer.Length > 0 ? $"{outer}\n{{\n{type}\n}}" : type;
            return (kind, GeneratorHarness.Usings + $"namespace Typo{index};\n\n{body}\n", outOfRange);
        }
    }

    [Fact]
    public void Typos_give_EXP_diagnostics_never_a_generator_failure()
    {
        var typos = new Typos(20261126);
        var failures = new StringBuilder();
        var kinds = new Dictionary<string, int>();
        for (int i = 0; i < 200; i++)
        {
            (string kind, string source, bool enumOutOfRange) = typos.Declaration(i);
            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            var (generator, sources, compiler) = GeneratorHarness.Run(source);
            if (generator.FirstOrDefault(d => d.Id is "CS8784" or "CS8785" or "EXP0018" || d.Id.StartsWith("AD", StringComparison.Ordinal)) is { } crash)
            {
                failures.Append(CultureInfo.InvariantCulture, $"#{i} ({kind}): generator failed: {crash.GetMessage(CultureInfo.InvariantCulture)}\n{source}\n");
                continue;
            }

            // The generated code is never the broken part: the user's own errors may remain (CS0579, CS0182), not new ones in *.g.cs.
            if (compiler.FirstOrDefault(d => d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true) is { } generatedError)
            {
                failures.Append(CultureInfo.InvariantCulture, $"#{i} ({kind}): the generated code does not compile: {generatedError}\n{source}\n");
            }

            // Every kind but a duplicate attribute (the compiler's own CS0579) and a non-constant attribute argument (CS0182) is an EXP error.
            bool compilerCatchesIt = kind is "duplicate-attribute" || compiler.Any(d => d.Id is "CS0182" or "CS0579" or "CS0120" or "CS0236");
            bool modelGenerated = sources.Any(s => s.HintName.Contains($"Case{i}", StringComparison.Ordinal));
            if (!compilerCatchesIt && !generator.Any(d => d.Id.StartsWith("EXP", StringComparison.Ordinal)) && !(kind == "enum-layer" && !enumOutOfRange))
            {
                failures.Append(CultureInfo.InvariantCulture, $"#{i} ({kind}): neither an EXP diagnostic nor a compiler error\n{source}\n");
            }

            if (generator.Any(d => d.Id.StartsWith("EXP", StringComparison.Ordinal)) && modelGenerated)
            {
                failures.Append(CultureInfo.InvariantCulture, $"#{i} ({kind}): has EXP diagnostics but a model was generated\n{source}\n");
            }

            // An out-of-range enum is EXP0016 (EXP0003 for the dataset); a declaration whose enums are all in range may be valid.
            if (enumOutOfRange && !generator.Any(d => d.Id is "EXP0016" or "EXP0003"))
            {
                failures.Append(CultureInfo.InvariantCulture, $"#{i} ({kind}): an enum cast out of range without EXP0016\n{source}\n");
            }
        }

        output.WriteLine(string.Join(", ", kinds.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} x{p.Value}")));
        Assert.True(failures.Length == 0, failures.ToString());
        Assert.Equal(10, kinds.Count);
    }

    [Fact]
    public void Random_declarations_never_break_the_generator_and_valid_ones_compile_and_run()
    {
        TorchRuntime.Initialize(2);
        var builder = new Builder(20261123);
        int valid = 0, invalid = 0, executed = 0;
        var failures = new StringBuilder();
        var histogram = new Dictionary<string, int>();
        for (int i = 0; i < Declarations; i++)
        {
            string source = builder.Declaration(i);
            var (generator, sources, compiler) = GeneratorHarness.Run(source);
            Diagnostic[] crashes = generator.Where(d => d.Id is "CS8784" or "CS8785" || d.Id.StartsWith("AD", StringComparison.Ordinal)).ToArray();
            if (crashes.Length > 0)
            {
                failures.Append(CultureInfo.InvariantCulture, $"#{i}: generator failed: {crashes[0].GetMessage(CultureInfo.InvariantCulture)}\n{source}\n");
                continue;
            }

            if (generator.Any(d => d.Id.StartsWith("EXP", StringComparison.Ordinal)))
            {
                invalid++;
                foreach (string id in generator.Select(d => d.Id).Distinct())
                {
                    histogram[id] = histogram.GetValueOrDefault(id) + 1;
                }

                if (sources.Any(s => s.HintName.Contains($"Case{i}.g.cs", StringComparison.Ordinal)))
                {
                    failures.Append(CultureInfo.InvariantCulture, $"#{i}: has EXP diagnostics but a model was generated\n{source}\n");
                }

                continue;
            }

            valid++;
            if (compiler.Length > 0)
            {
                failures.Append(CultureInfo.InvariantCulture, $"#{i}: no EXP diagnostic, but the generated code does not compile: {compiler[0]}\n{source}\n");
                continue;
            }

            if (executed < ExecutedModels && RunsForward(source, i) is { } problem)
            {
                failures.Append(CultureInfo.InvariantCulture, $"#{i}: {problem}\n{source}\n");
            }

            executed++;
        }

        output.WriteLine(string.Join(", ", histogram.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} x{p.Value}")));
        output.WriteLine($"{Declarations} declarations: {valid} valid ({Math.Min(executed, ExecutedModels)} run forward), {invalid} with EXP diagnostics");
        Assert.True(failures.Length == 0, failures.ToString());
        // Both kinds must be well represented, or the property says little.
        Assert.InRange(valid, Declarations / 5, Declarations);
        Assert.InRange(invalid, Declarations / 5, Declarations);
    }

    /// <summary>Emits the compilation, loads it, and runs the model on two random examples; null when it gives [2, 10].</summary>
    private static string? RunsForward(string source, int index)
    {
        Compilation compilation = GeneratorHarness.Compilation(source);
        GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation generated, out _);
        using var image = new MemoryStream();
        var emitted = generated.Emit(image);
        if (!emitted.Success)
        {
            return "emit failed: " + emitted.Diagnostics.First(d => d.Severity == DiagnosticSeverity.Error);
        }

        image.Position = 0;
        var context = new AssemblyLoadContext($"fuzz-{index}", isCollectible: true);
        try
        {
            Type type = context.LoadFromStream(image).GetType($"Fuzz{index}.Case{index}")!;
            var experiment = (IExperiment)Activator.CreateInstance(type)!;
            using var scope = torch.NewDisposeScope();
            using nn.Module<Tensor, Tensor> model = experiment.CreateModel();
            model.eval();
            long[] shape = [2, .. experiment.Settings.InputShape.Select(d => (long)d)];
            Tensor logits = model.call(torch.rand(shape));
            return logits.shape.SequenceEqual([2L, 10L]) ? null : $"logits shaped [{string.Join(", ", logits.shape)}], expected [2, 10]";
        }
        catch (Exception e)
        {
            return $"the model does not run: {e.GetType().Name}: {e.Message}";
        }
        finally
        {
            context.Unload();
        }
    }
}
