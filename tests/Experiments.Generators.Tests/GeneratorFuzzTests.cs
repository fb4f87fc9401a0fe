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
