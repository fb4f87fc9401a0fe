using System.Reflection;
using System.Text;
using Xunit;

namespace Experiments.Generators.Tests;

/// <summary>
/// The generated source of representative declarations, compared with approved Snapshots/*.verified.cs files.
/// On a mismatch the new output is written beside it as *.received.cs (git-ignored) and the test fails, always: the
/// tests never approve anything. Approving a deliberate change is its own step, `bash scripts/accept-generated.sh`
/// (refused under CI=true), and the .verified.cs files are committed with the reason.
/// </summary>
public sealed class SnapshotTests
{
    private static readonly string Directory = typeof(SnapshotTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "SnapshotDirectory").Value!;

    public static TheoryData<string, string> Declarations => new()
    {
        {
            "Mlp", """
            [Experiment("mnist-mlp", Dataset.Mnist, Input.Flat, Optimizer = Optimizer.Sgd, Momentum = 0.9, BatchSize = 128, Epochs = 3, Seed = 7)]
            public sealed partial class Mlp
            {
                private static readonly Layer[] Layers = [new Dense(50), new Dropout(0.2), new Dense(10), new ActivationLayer(Activation.Softmax)];
            }
            """
        },
        {
            "Branches", """
            [Experiment("branches", Dataset.Mnist, Input.Image, Optimizer = Optimizer.Adam, LearningRate = 0.05, Validation = Validation.KerasTail, ValidationFraction = 0.2)]
            public sealed partial class Branches
            {
                private static readonly Layer[] Layers =
                [
                    new Concatenate(new Conv2D(2, 4, 16, Padding: Padding.Same, Activation: Activation.Relu), new Sequence(new Conv2D(2, 3, Padding: Padding.Same), new ActivationLayer(Activation.Tanh))),
                    new MaxPool2D(2),
                    new Function(nameof(Normalise)),
                    new BatchNormalization(Axis: 1),
                    new Flatten(),
                    new Dense(10, Activation.Softmax),
                ];

                public static Tensor Normalise(Tensor x) => x / (x.max() - x.min());
            }
            """
        },
        {
            "Recurrent", """
            [Experiment("fashion-rnns", Dataset.FashionMnist, Input.Sequence, Loss = Loss.MeanSquaredError, Validation = Validation.TestSet)]
            public sealed partial class Recurrent
            {
                private static readonly Layer[] Layers = [new Gru(16), new Dense(10, Activation.Softmax)];
            }
            """
        },
    };

    [Theory]
    [MemberData(nameof(Declarations))]
    public void Generated_source_matches_the_approved_snapshot(string name, string declaration)
    {
        string source = GeneratorHarness.Usings + "namespace Snap;\n" + declaration;
        var (generator, sources, compiler) = GeneratorHarness.Run(source);
        Assert.Empty(generator);
        Assert.Empty(compiler);
        string generated = sources.Single(s => s.HintName == $"Snap.{name}.g.cs").SourceText.ToString();

        // Byte-stable: a second run gives the same text.
        Assert.Equal(generated, GeneratorHarness.Run(source).Sources.Single(s => s.HintName == $"Snap.{name}.g.cs").SourceText.ToString());
        Verify(name, generated);
    }

    private static void Verify(string name, string actual)
    {
        string verified = Path.Combine(Directory, $"{name}.verified.cs");
        string received = Path.Combine(Directory, $"{name}.received.cs");
        string? expected = File.Exists(verified) ? File.ReadAllText(verified) : null;
        if (expected == actual)
        {
            File.Delete(received);
            return;
        }

        File.WriteAllText(received, actual);
        Assert.Fail(expected is null
            ? $"No approved snapshot {verified}. Review {received}; approve it with bash scripts/accept-generated.sh."
            : $"Generated source differs from {verified}:\n{FirstDifference(expected, actual)}\nReview {received}; approve it with bash scripts/accept-generated.sh.");
    }

    private static string FirstDifference(string expected, string actual)
    {
        string[] e = expected.Split('\n');
        string[] a = actual.Split('\n');
        var diff = new StringBuilder();
        for (int i = 0; i < Math.Max(e.Length, a.Length) && diff.Length < 2000; i++)
        {
            string left = i < e.Length ? e[i] : "";
            string right = i < a.Length ? a[i] : "";
            if (left != right)
            {
                diff.Append(System.Globalization.CultureInfo.InvariantCulture, $"line {i + 1}:\n- {left}\n+ {right}\n");
            }
        }

        return diff.ToString();
    }
}
