using Microsoft.CodeAnalysis;
using Experiments.Runtime;
using Experiments.Runtime.Native;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Experiments.Generators.Tests;

/// <summary>
/// The layers beyond the seeds: augmentation, residual Add, LayerNormalization, average and global pooling, Reshape and
/// the further activations. Parameter counts against Keras' rules worked out by hand, the generated module run forward,
/// and each misuse an EXP diagnostic.
/// </summary>
public sealed class LayerFamilyTests
{
    private static string Declaration(string layers, string input = "Input.Image") => GeneratorHarness.Usings + $$"""
        namespace Fam;
        [Experiment("fam", Dataset.FashionMnist, {{input}})]
        public sealed partial class Fam
        {
            private static readonly Layer[] Layers = [{{layers}}];
        }
        """;

    private const string Residual =
        "new RandomFlip(FlipMode.Horizontal), new RandomTranslation(0.1, 0.05), new RandomRotation(0.05), new RandomZoom(0.1), " +
        "new Conv2D(8, 3, Padding: Padding.Same, Activation: Activation.Gelu), " +
        "new Add(new Identity(), new Sequence(new Conv2D(8, 3, Padding: Padding.Same, Activation: Activation.Swish), new Conv2D(8, 3, Padding: Padding.Same))), " +
        "new ActivationLayer(Activation.LeakyRelu), new LayerNormalization(), new AveragePooling2D(2), new AveragePooling2D(3, Padding: Padding.Same), " +
        "new Reshape(5, 5, -1), new ActivationLayer(Activation.Elu), new GlobalAveragePooling2D(), new Dense(10, Activation.Softmax)";

    [Fact]
    public void A_residual_model_counts_its_parameters_as_Keras_and_runs()
    {
        IExperiment experiment = GeneratorHarness.Registry(Declaration(Residual)).Single();
        Type type = experiment.GetType();
        long Constant(string name) => (long)type.GetField(name)!.GetValue(null)!;

        // Keras: Conv2D 3x3x1x8 + 8 = 80; the residual branch's two 3x3x8x8 + 8 = 584 each; LayerNormalization over the
        // 8 channels a scale and a centre each = 16; Dense 8x10 + 10 = 90. Augmentation, Add, pooling, Reshape: none.
        Assert.Equal(80 + (2 * 584) + 16 + 90, Constant("KerasTrainableParameters"));
        Assert.Equal(0, Constant("KerasNonTrainableParameters"));
        string summary = experiment.Info.Summary;
        foreach (string row in new[] { "random_flip (RandomFlip)", "random_zoom (RandomZoom)", "identity (Identity)", "add (Add)", "layer_normalization (LayerNormalization)", "(None, 5, 5, 8)", "global_average_pooling2d (GlobalAveragePooling2D)" })
        {
            Assert.Contains(row, summary, StringComparison.Ordinal);
        }

        // 28 -> pool 2 -> 14 -> pool 3 'same' -> 5 (Keras pads one pixel, at the bottom and right) -> Reshape (5, 5, 8).
        Assert.Contains("average_pooling2d_1 (AveragePooling2D)", summary, StringComparison.Ordinal);
        Assert.Equal(
            ["RandomFlip(Horizontal)", "RandomTranslation(0.1, 0.05)", "RandomRotation(0.05)", "RandomZoom(0.1)"],
            experiment.Settings.Augmentation.Select(a => a.ToString()));

        TorchRuntime.Initialize(2);
        using nn.Module<Tensor, Tensor> model = experiment.CreateModel();
        Assert.Equal(80 + (2 * 584) + 16 + 90, model.parameters().Sum(p => p.numel()));
        using Tensor logits = model.call(torch.rand(3, 1, 28, 28, generator: torch.manual_seed(3)));
        Assert.Equal([3L, 10L], logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
    }

    /// <summary>Stacked recurrent layers: the lower ones return every step (Keras' return_sequences), the top one its last.</summary>
    [Fact]
    public void Stacked_recurrent_layers_return_sequences_and_count_their_parameters_as_Keras()
    {
        IExperiment experiment = GeneratorHarness.Registry(Declaration(
            "new Lstm(32, ReturnSequences: true), new Gru(16, ReturnSequences: true), new SimpleRnn(8), new Dense(10, Activation.Softmax)", "Input.Sequence")).Single();
        long Constant(string name) => (long)experiment.GetType().GetField(name)!.GetValue(null)!;

        // Keras: LSTM 4*(28*32 + 32*32 + 32) = 7808 on 28 features; GRU (reset_after) 3*(32*16 + 16*16 + 2*16) = 2400 on
        // the LSTM's 32; SimpleRNN 16*8 + 8*8 + 8 = 200; Dense 8*10 + 10 = 90.
        Assert.Equal(7808 + 2400 + 200 + 90, Constant("KerasTrainableParameters"));
        string summary = experiment.Info.Summary;
        Assert.Contains("(None, 28, 32)", summary, StringComparison.Ordinal);
        Assert.Contains("(None, 28, 16)", summary, StringComparison.Ordinal);
        Assert.Contains("(None, 8)", summary, StringComparison.Ordinal);

        TorchRuntime.Initialize(2);
        using nn.Module<Tensor, Tensor> model = experiment.CreateModel();
        using Tensor logits = model.call(torch.rand(3, 28, 28, generator: torch.manual_seed(5)));
        Assert.Equal([3L, 10L], logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
        string Fingerprint(string layers) => GeneratorHarness.Registry(Declaration(layers, "Input.Sequence")).Single().Info.Fingerprint;
        Assert.NotEqual(Fingerprint("new Lstm(16, ReturnSequences: true), new Flatten(), new Dense(10, Activation.Softmax)"), Fingerprint("new Lstm(16), new Flatten(), new Dense(10, Activation.Softmax)"));
    }

    /// <summary>Kernel regularizers: Keras' l1 * sum|W| + l2 * sum W^2 of the declared layers, and its gradient, on the generated model.</summary>
    [Fact]
    public void Kernel_regularizers_add_keras_penalty_of_the_declared_kernels()
    {
        IExperiment experiment = GeneratorHarness.Registry(Declaration(
            "new Conv2D(2, 3, L1: 0.001), new Flatten(), new Dense(8, Activation.Relu), new Dense(10, Activation.Softmax, L1: 1e-4, L2: 2e-4)")).Single();
        Experiments.Runtime.Training.TrainingSettings settings = experiment.Settings;
        Assert.Equal(["conv2d.weight L1L2(0.001, 0)", "dense_1.weight L1L2(0.0001, 0.0002)"], settings.Regularization.Select(r => r.ToString()));
        Assert.Contains(", regularization conv2d.weight L1L2(0.001, 0) dense_1.weight L1L2(0.0001, 0.0002)", settings.ToString(), StringComparison.Ordinal);
        string plain = GeneratorHarness.Registry(Declaration("new Conv2D(2, 3), new Flatten(), new Dense(8, Activation.Relu), new Dense(10, Activation.Softmax)")).Single().Info.Fingerprint;
        Assert.NotEqual(plain, experiment.Info.Fingerprint);

        TorchRuntime.Initialize(2);
        using nn.Module<Tensor, Tensor> model = experiment.CreateModel();
        var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        double[] conv = named["conv2d.weight"].data<float>().Select(v => (double)v).ToArray();
        double[] top = named["dense_1.weight"].data<float>().Select(v => (double)v).ToArray();
        double expected = (0.001 * conv.Sum(Math.Abs)) + (1e-4 * top.Sum(Math.Abs)) + (2e-4 * top.Sum(v => v * v));
        using Tensor penalty = Experiments.Runtime.Training.KernelPenalty.Total(settings.Regularization, model)!;
        Assert.Equal(expected, penalty.item<float>(), 1e-6);

        // d/dW: l1 * sign(W) (+ 2 * l2 * W); the unregularized Dense gets no gradient from it.
        penalty.backward();
        float[] topGradient = named["dense_1.weight"].grad!.data<float>().ToArray();
        for (int i = 0; i < top.Length; i++)
        {
            Assert.Equal((1e-4 * Math.Sign(top[i])) + (2 * 2e-4 * top[i]), topGradient[i], 1e-7);
        }

        Assert.Null(named["dense.weight"].grad);
    }

    /// <summary>Conv1D and MaxPooling1D over a sequence's steps: Keras' step counts, parameter counts and 'same' padding.</summary>
    [Fact]
    public void One_dimensional_convolution_and_pooling_follow_keras_over_the_steps()
    {
        IExperiment experiment = GeneratorHarness.Registry(Declaration(
            "new Conv1D(16, 3, Padding: Padding.Same, Activation: Activation.Relu), new MaxPool1D(2), new Conv1D(8, 4, Stride: 2), new Flatten(), new Dense(10, Activation.Softmax)",
            "Input.Sequence")).Single();

        // Keras: Conv1D 3*28*16 + 16 = 1360, (28, 16); pooling (14, 16); Conv1D 4*16*8 + 8 = 520, (14-4)/2+1 = 6 steps;
        // Flatten 48; Dense 48*10 + 10 = 490.
        Assert.Equal(1360 + 520 + 490, (long)experiment.GetType().GetField("KerasTrainableParameters")!.GetValue(null)!);
        foreach (string row in new[] { "conv1d (Conv1D)", "(None, 28, 16)", "max_pooling1d (MaxPooling1D)", "(None, 14, 16)", "(None, 6, 8)", "(None, 48)" })
        {
            Assert.Contains(row, experiment.Info.Summary, StringComparison.Ordinal);
        }

        TorchRuntime.Initialize(2);
        using (nn.Module<Tensor, Tensor> model = experiment.CreateModel())
        {
            using Tensor logits = model.call(torch.rand(3, 28, 28, generator: torch.manual_seed(7)));
            Assert.Equal([3L, 10L], logits.shape);
        }

        // An even kernel under 'same': Keras pads one step before and two after (28 steps, window 4). An impulse at step
        // 10 of feature 0 then lands at steps 8..11 as the kernel's taps 3..0.
        IExperiment even = GeneratorHarness.Registry(Declaration("new Conv1D(1, 4, Padding: Padding.Same), new Function(nameof(Keep)), new Flatten(), new Dense(10, Activation.Softmax)", "Input.Sequence")
            .Replace("private static readonly", "public static Tensor Keep(Tensor x) { Kept = x.detach().cpu().data<float>().ToArray(); return x; }\n    public static float[]? Kept;\n    private static readonly", StringComparison.Ordinal)).Single();
        using nn.Module<Tensor, Tensor> single = even.CreateModel();
        float[] taps = single.named_parameters().Single(p => p.name == "conv1d.weight").parameter.data<float>().ToArray(); // [1, 28, 4]: feature 0's taps first
        using Tensor impulse = torch.zeros(1, 28, 28);
        impulse[0, 10, 0] = torch.tensor(1f);
        using Tensor _ = single.call(impulse);
        var kept = (float[])even.GetType().GetField("Kept")!.GetValue(null)!;
        Assert.Equal(28, kept.Length);
        float[] expected = new float[28];
        for (int tap = 0; tap < 4; tap++)
        {
            expected[11 - tap] = taps[tap];
        }

        Assert.Equal(expected, kept);
    }

    /// <summary>
    /// Bidirectional: two layers of the wrapped kind, Keras' counts doubled; the last-step output is the forward layer's
    /// last step beside the backward layer's, which has read the sequence from its end (Keras' merge_mode 'concat').
    /// </summary>
    [Fact]
    public void Bidirectional_reads_the_sequence_both_ways_and_concatenates_as_keras()
    {
        IExperiment stacked = GeneratorHarness.Registry(Declaration(
            "new Bidirectional(new Gru(8, ReturnSequences: true)), new Bidirectional(new SimpleRnn(4)), new Dense(10, Activation.Softmax)", "Input.Sequence")).Single();

        // Keras: GRU 3*(28*8 + 8*8 + 2*8) = 912 per direction, (None, 28, 16); SimpleRNN on 16: 16*4 + 4*4 + 4 = 84 per
        // direction, (None, 8); Dense 8*10 + 10 = 90.
        Assert.Equal((2 * 912) + (2 * 84) + 90, (long)stacked.GetType().GetField("KerasTrainableParameters")!.GetValue(null)!);
        Assert.Contains("bidirectional (Bidirectional)", stacked.Info.Summary, StringComparison.Ordinal);
        Assert.Contains("(None, 28, 16)", stacked.Info.Summary, StringComparison.Ordinal);
        Assert.Contains("(None, 8)", stacked.Info.Summary, StringComparison.Ordinal);

        IExperiment experiment = GeneratorHarness.Registry(Declaration("new Bidirectional(new Lstm(16)), new Function(nameof(Keep)), new Dense(10, Activation.Softmax)", "Input.Sequence")
            .Replace("private static readonly", "public static Tensor Keep(Tensor x) { Kept = x.detach().cpu().data<float>().ToArray(); return x; }\n    public static float[]? Kept;\n    private static readonly", StringComparison.Ordinal)).Single();
        Assert.Equal((2 * 4 * ((28 * 16) + (16 * 16) + 16)) + 330, (long)experiment.GetType().GetField("KerasTrainableParameters")!.GetValue(null)!);
        TorchRuntime.Initialize(2);
        using nn.Module<Tensor, Tensor> model = experiment.CreateModel();
        using Tensor input = torch.rand(2, 28, 28, generator: torch.manual_seed(9));
        using Tensor _ = model.call(input);
        var kept = (float[])experiment.GetType().GetField("Kept")!.GetValue(null)!;

        // Each direction alone: a one-way LSTM with that direction's weights, on the sequence as given and reversed.
        var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        float[] Alone(string suffix, Tensor sequence)
        {
            using var lstm = nn.LSTM(28, 16, batchFirst: true);
            using (torch.no_grad())
            {
                foreach (string part in new[] { "weight_ih", "weight_hh", "bias_ih", "bias_hh" })
                {
                    lstm.get_parameter(part + "_l0")!.copy_(named["bidirectional." + part + "_l0" + suffix]);
                }
            }

            using Tensor last = lstm.call(sequence, null).Item1.select(1, -1);
            return last.detach().data<float>().ToArray();
        }

        float[] forward = Alone("", input);
        using Tensor reversed = input.flip(1);
        float[] backward = Alone("_reverse", reversed);
        for (int example = 0; example < 2; example++)
        {
            for (int unit = 0; unit < 16; unit++)
            {
                Assert.Equal(forward[(example * 16) + unit], kept[(example * 32) + unit], 1e-5f);
                Assert.Equal(backward[(example * 16) + unit], kept[(example * 32) + 16 + unit], 1e-5f);
            }
        }
    }

    [Fact]
    public void Same_average_pooling_averages_the_pixels_inside_the_image_as_Keras_does()
    {
        // A constant image stays constant under Keras' 'same' average (padding is not counted), at every border.
        IExperiment experiment = GeneratorHarness.Registry(Declaration("new AveragePooling2D(3, Padding: Padding.Same), new Reshape(100), new Function(nameof(Keep)), new Dense(10, Activation.Softmax)")
            .Replace("private static readonly", "public static Tensor Keep(Tensor x) { Kept = x.detach().cpu().data<float>().ToArray(); return x; }\n    public static float[]? Kept;\n    private static readonly", StringComparison.Ordinal)).Single();
        TorchRuntime.Initialize(2);
        using nn.Module<Tensor, Tensor> model = experiment.CreateModel();
        using Tensor _ = model.call(torch.full(2, 1, 28, 28, 0.5f));
        var kept = (float[])experiment.GetType().GetField("Kept")!.GetValue(null)!;
        Assert.Equal(200, kept.Length);
        Assert.All(kept, value => Assert.Equal(0.5f, value, 1e-6f));
    }

    [Fact]
    public void Augmentation_and_the_new_layers_enter_the_fingerprint_and_the_settings()
    {
        string Fingerprint(string layers) => GeneratorHarness.Registry(Declaration(layers)).Single().Info.Fingerprint;
        string plain = Fingerprint("new Conv2D(4, 3), new Flatten(), new Dense(10, Activation.Softmax)");
        string flipped = Fingerprint("new RandomFlip(), new Conv2D(4, 3), new Flatten(), new Dense(10, Activation.Softmax)");
        string horizontal = Fingerprint("new RandomFlip(FlipMode.Horizontal), new Conv2D(4, 3), new Flatten(), new Dense(10, Activation.Softmax)");
        string rotated = Fingerprint("new RandomRotation(0.1), new Conv2D(4, 3), new Flatten(), new Dense(10, Activation.Softmax)");
        string rotatedMore = Fingerprint("new RandomRotation(0.2), new Conv2D(4, 3), new Flatten(), new Dense(10, Activation.Softmax)");
        Assert.Equal(5, new[] { plain, flipped, horizontal, rotated, rotatedMore }.Distinct().Count());
        Assert.Equal(Fingerprint("new Reshape(14, 14, 4), new Flatten(), new Dense(10, Activation.Softmax)"), Fingerprint("new Reshape(14, 14, 4), new Flatten(), new Dense(10, Activation.Softmax)"));
        Assert.NotEqual(Fingerprint("new Reshape(28, 28, 1), new Flatten(), new Dense(10, Activation.Softmax)"), Fingerprint("new Reshape(14, 56, 1), new Flatten(), new Dense(10, Activation.Softmax)"));
    }

    public static TheoryData<string, string, string, string> Misuse => new()
    {
        { Declaration("new Conv2D(4, 3), new RandomFlip(), new Flatten(), new Dense(10, Activation.Softmax)"), "EXP0023", "layer 2 (RandomFlip): an augmentation layer after a layer of the model", "new RandomFlip()" },
        { Declaration("new Sequence(new RandomZoom(0.1)), new Flatten(), new Dense(10, Activation.Softmax)"), "EXP0023", "layer 1.1 (RandomZoom): an augmentation layer inside", "new RandomZoom(0.1)" },
        { Declaration("new RandomRotation(0.1), new Dense(10, Activation.Softmax)", "Input.Flat"), "EXP0005", "layer 1 (RandomRotation) needs an image", "new RandomRotation(0.1)" },
        { Declaration("new RandomTranslation(1.5, 0.1), new Flatten(), new Dense(10, Activation.Softmax)"), "EXP0013", "height factor 1.5 is out of range", "new RandomTranslation(1.5, 0.1)" },
        { Declaration("new Conv2D(8, 3), new Add(new Identity(), new Conv2D(8, 3)), new Flatten(), new Dense(10, Activation.Softmax)"), "EXP0024", "branch 2 gives (None, 24, 24, 8) but branch 1 gives (None, 26, 26, 8)", "new Add(" },
        { Declaration("new Add(new Identity()), new Flatten(), new Dense(10, Activation.Softmax)"), "EXP0013", "1 branch is out of range", "new Add(new Identity())" },
        { Declaration("new Reshape(27, -1), new Flatten(), new Dense(10, Activation.Softmax)"), "EXP0013", "784 values do not divide into dimensions of 27", "new Reshape(27, -1)" },
        { Declaration("new Reshape(7, -1, -1), new Flatten(), new Dense(10, Activation.Softmax)"), "EXP0013", "except one that may be -1", "new Reshape(7, -1, -1)" },
        { Declaration("new GlobalMaxPooling2D(), new Dense(10, Activation.Softmax)", "Input.Flat"), "EXP0005", "layer 1 (GlobalMaxPooling2D) needs a 3-D", "new GlobalMaxPooling2D()" },
        { Declaration("new LayerNormalization(Axis: 4), new Flatten(), new Dense(10, Activation.Softmax)"), "EXP0013", "axis 4 is out of range", "new LayerNormalization(Axis: 4)" },
        { Declaration("new Lstm(16), new Lstm(8), new Dense(10, Activation.Softmax)", "Input.Sequence"), "EXP0005", "give the lower ones ReturnSequences: true", "new Lstm(8)" },
        { Declaration("new Conv2D(4, 3, L2: -0.01), new Flatten(), new Dense(10, Activation.Softmax)"), "EXP0013", "L2 -0.01 is out of range", "new Conv2D(4, 3, L2: -0.01)" },
        { Declaration("new Conv1D(4, 30), new Flatten(), new Dense(10, Activation.Softmax)", "Input.Sequence"), "EXP0013", "the window is longer than the 28 steps", "new Conv1D(4, 30)" },
        { Declaration("new Conv1D(4, 3), new Flatten(), new Dense(10, Activation.Softmax)"), "EXP0005", "layer 1 (Conv1D) needs a 2-D (steps, features) input", "new Conv1D(4, 3)" },
        { Declaration("new Flatten(), new Bidirectional(new Dense(4)), new Dense(10, Activation.Softmax)", "Input.Sequence"), "EXP0013", "Bidirectional wraps one recurrent layer", "new Bidirectional(new Dense(4))" },
    };

    [Theory]
    [MemberData(nameof(Misuse))]
    public void A_misused_layer_is_a_build_error_at_that_layer(string source, string id, string message, string locatedAt)
    {
        var (generator, _, _) = GeneratorHarness.Run(source);
        Diagnostic diagnostic = Assert.Single(generator, d => d.Id == id);
        Assert.Contains(message, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        string located = source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length);
        Assert.StartsWith(locatedAt, located, StringComparison.Ordinal);
        Assert.EndsWith($"docs/diagnostics/{id}.md", diagnostic.Descriptor.HelpLinkUri, StringComparison.Ordinal);
    }
}
