using Experiments.Runtime.Native;
using Experiments.Runtime.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Experiments.Runtime.Tests;

/// <summary>
/// The flat parameter layout (one buffer for every parameter, one for every gradient) against the per-parameter
/// reference: same bits after many steps of each optimizer, storage really shared, checkpoint state per parameter.
/// </summary>
public sealed class ParameterLayoutTests
{
    /// <summary>Every kind of parameter the catalog has: convolution, batch norm (with frozen statistics), LSTM (with a frozen bias), dense; odd sizes so that vector tails differ between layouts.</summary>
    private sealed class Mixed : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Conv2d conv = nn.Conv2d(1, 3, 3, bias: false); // a bias before batch norm gets no gradient
        private readonly TorchSharp.Modules.BatchNorm2d norm = nn.BatchNorm2d(3);
        private readonly TorchSharp.Modules.LSTM lstm = nn.LSTM(15, 7, batchFirst: true);
        private readonly TorchSharp.Modules.Linear dense = nn.Linear(7 * 3, 10);

        public Mixed()
            : base(nameof(Mixed))
        {
            RegisterComponents();
            lstm.named_parameters().Single(n => n.name == "bias_hh_l0").parameter.requires_grad = false;
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = torch.NewDisposeScope();
            Tensor x = nn.functional.relu(norm.call(conv.call(input)));              // [n, 3, 15, 15]
            Tensor rows = x.mean([3]).transpose(1, 2).repeat(1, 1, 5);             // [n, 15 steps, 15]
            (Tensor output, _, _) = lstm.call(rows);
            Tensor last = output.narrow(1, 12, 3).reshape(input.shape[0], 21);
            return dense.call(last).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Same shape and the same bytes (so -0 and +0, or two NaNs, are told apart as the snapshots would).</summary>
    private static bool Same(Tensor a, Tensor b)
    {
        using Tensor x = a.detach().contiguous();
        using Tensor y = b.detach().contiguous();
        return a.shape.SequenceEqual(b.shape) && x.bytes.SequenceEqual(y.bytes);
    }

    public static TheoryData<string> Optimizers => ["sgd", "sgd-momentum", "sgd-nesterov", "adam", "rmsprop", "adamw", "adagrad", "adamax", "nadam", "adadelta"];

    private static OptimizerSettings Settings(string name) => name switch
    {
        "sgd" => OptimizerSettings.Sgd(learningRate: 0.05),
        "sgd-momentum" => OptimizerSettings.Sgd(learningRate: 0.05, momentum: 0.9),
        "sgd-nesterov" => OptimizerSettings.Sgd(learningRate: 0.05, momentum: 0.9, nesterov: true),
        "adam" => OptimizerSettings.Adam(),
        "rmsprop" => OptimizerSettings.RmsProp(),
        "adamw" => OptimizerSettings.AdamW(),
        "adagrad" => OptimizerSettings.Adagrad(),
        "adamax" => OptimizerSettings.Adamax(),
        "nadam" => OptimizerSettings.Nadam(),
        "adadelta" => OptimizerSettings.Adadelta(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such optimizer in this test"),
    };

    private static (Tensor[] Parameters, Tensor[] State, long FrozenChanged, int Unmoved) Train(ParameterLayoutKind kind, string optimizerName, int threads)
    {
        TorchRuntime.Initialize(threads);
        torch.manual_seed(11);
        using var model = new Mixed();
        Tensor frozenBefore = model.parameters().Single(p => !p.requires_grad).detach().clone();
        Tensor[] initial = model.parameters().Select(p => p.detach().clone()).ToArray();
        using KerasOptimizer optimizer = KerasOptimizer.Create(Settings(optimizerName), ParameterLayout.Create(kind, model.parameters()));
        var data = new Generator(5);
        using Tensor inputs = torch.rand([64, 1, 17, 17], generator: data);
        using Tensor targets = torch.randint(0, 10, [64], generator: data);
        model.train();
        for (int step = 0; step < 25; step++)
        {
            using var scope = torch.NewDisposeScope();
            Tensor batch = inputs.narrow(0, step % 4 * 16, 16);
            Tensor loss = nn.functional.cross_entropy(model.call(batch), targets.narrow(0, step % 4 * 16, 16));
            optimizer.ZeroGrad();
            loss.backward();
            optimizer.Step();
        }

        long frozenChanged = model.parameters().Single(p => !p.requires_grad).ne(frozenBefore).sum().item<long>();
        int unmoved = model.parameters().Zip(initial).Count(pair => pair.First.requires_grad && Same(pair.First, pair.Second));
        return (
            model.parameters().Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray(),
            optimizer.State.Select(s => s.clone().DetachFromDisposeScope()).ToArray(),
            frozenChanged,
            unmoved);
    }

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Flat_and_per_parameter_steps_give_the_same_bits(string optimizer)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            var reference = Train(ParameterLayoutKind.PerParameter, optimizer, threads);
            var flat = Train(ParameterLayoutKind.Flat, optimizer, threads);
            Assert.Equal(reference.Parameters.Length, flat.Parameters.Length);
            for (int i = 0; i < reference.Parameters.Length; i++)
            {
                Assert.True(Same(reference.Parameters[i], flat.Parameters[i]), $"{optimizer}, {threads} threads: parameter {i} differs by up to {(reference.Parameters[i] - flat.Parameters[i]).abs().max().item<float>()}");
            }

            Assert.Equal(reference.State.Length, flat.State.Length);
            for (int i = 0; i < reference.State.Length; i++)
            {
                Assert.Equal(reference.State[i].shape, flat.State[i].shape);
                Assert.True(Same(reference.State[i], flat.State[i]), $"{optimizer}, {threads} threads: optimizer state {i} differs");
            }

            Assert.Equal(0, flat.FrozenChanged);
            Assert.Equal(0, flat.Unmoved);
        }
    }

    [Fact]
    public void Flat_layout_shares_storage_and_autograd_accumulates_into_the_flat_gradient()
    {
        TorchRuntime.Initialize(2);
        torch.manual_seed(3);
        using var model = new Mixed();
        using ParameterLayout layout = ParameterLayout.Create(ParameterLayoutKind.Flat, model.parameters());
        TorchSharp.Modules.Parameter[] trainable = model.parameters().Where(p => p.requires_grad).ToArray();

        ParameterLayout.Segment flat = Assert.Single(layout.Segments);
        Assert.Equal(trainable.Sum(p => p.numel()), flat.Values.numel());
        Assert.Equal(trainable.Length, flat.Members.Count);

        // Writing the buffer writes the parameters (they are views of it).
        using (torch.no_grad())
        {
            flat.Values.fill_(0.25f);
        }

        Assert.All(trainable, p => Assert.True(p.eq(0.25f).all().item<bool>()));

        using var scope = torch.NewDisposeScope();
        using Tensor inputs = torch.rand([4, 1, 17, 17]);
        layout.ZeroGradients();
        nn.functional.cross_entropy(model.call(inputs), torch.tensor(new long[] { 1, 2, 3, 4 })).backward();
        Tensor gradients = flat.Gradients()!;
        Assert.True(gradients.abs().sum().item<float>() > 0, "the backward pass did not reach the flat gradient buffer");
        foreach ((TorchSharp.Modules.Parameter parameter, long offset) in flat.Members)
        {
            Assert.True(Same(parameter.grad!, gradients.narrow(0, offset, parameter.numel()).view(parameter.shape)), "a parameter's gradient is not its slice of the buffer");
        }

        layout.ZeroGradients();
        Assert.Equal(0f, gradients.abs().sum().item<float>());
        Assert.All(trainable, p => Assert.Equal(0f, p.grad!.abs().sum().item<float>()));
    }

    [Fact]
    public void Parameters_kept_separate_stay_out_of_the_flat_buffer()
    {
        TorchRuntime.Initialize(2);
        using var model = new Mixed();
        TorchSharp.Modules.Parameter[] recurrent = model.named_parameters().Where(n => n.name.StartsWith("lstm.", StringComparison.Ordinal)).Select(n => n.parameter).ToArray();
        using ParameterLayout layout = ParameterLayout.Create(ParameterLayoutKind.Flat, model.parameters(), recurrent);

        int trainableRecurrent = recurrent.Count(p => p.requires_grad);
        Assert.Equal(1 + trainableRecurrent, layout.Segments.Count);
        Assert.All(layout.Segments.Skip(1), s => Assert.Single(s.Members));
        Assert.DoesNotContain(layout.Segments[0].Members, m => recurrent.Contains(m.Parameter, ParameterLayout.ReferenceComparer));
    }
}
