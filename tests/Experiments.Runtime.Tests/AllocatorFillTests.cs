using Experiments.Runtime.Native;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Experiments.Runtime.Tests;

/// <summary>These tests read the process-wide fill flag, so nothing else may train beside them.</summary>
[CollectionDefinition(nameof(AllocatorFillTests), DisableParallelization = true)]
public sealed class AllocatorFillCollection;

/// <summary>
/// The default fill zero-fills the blocks convolutions allocate, and only those: on while a convolution's forward call
/// and its backward node run, off everywhere else, and on for the whole run of a model the generator did not write.
/// </summary>
[Collection(nameof(AllocatorFillTests))]
public sealed class AllocatorFillTests
{
    public AllocatorFillTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void The_default_fill_is_scoped_to_convolutions()
    {
        Assert.Equal("convolutions", AllocatorFill.Mode);
        Assert.False(AllocatorFill.FillingNow);
    }

    [Theory]
    [InlineData(false)] // the first convolution's input needs no gradient: AfterBackward closes its scope
    [InlineData(true)] // every convolution's input needs one: the graph closes every scope
    public void Convolutions_forward_and_backward_run_filled_and_nothing_else_does(bool inputNeedsGradient)
    {
        using var scope = NewDisposeScope();
        using var model = AllocatorFill.Guard(new TwoConvolutions());
        var seen = new List<(string Where, bool Filling)>();
        foreach ((string name, TorchSharp.Modules.Convolution convolution) in new[] { ("first", model.First), ("second", model.Second) })
        {
            // Registered after Guard's hooks: the pre-hook runs inside the convolution's scope, the post-hook after it.
            convolution.register_forward_pre_hook((_, input) =>
            {
                seen.Add(($"{name} forward", AllocatorFill.FillingNow));
                return input.requires_grad ? Probe.Apply(input, seen, $"right after {name} backward") : input;
            });
            convolution.register_forward_hook((_, _, output) =>
            {
                seen.Add(($"after {name} forward", AllocatorFill.FillingNow));
                return Probe.Apply(output, seen, $"right before {name} backward");
            });
        }

        Tensor input = rand(2, 1, 12, 12).requires_grad_(inputNeedsGradient);
        Tensor loss = model.call(input).sum();
        seen.Add(("forward done", AllocatorFill.FillingNow));
        loss.backward();
        seen.Add(("backward done", AllocatorFill.FillingNow));
        AllocatorFill.AfterBackward();
        seen.Add(("after AfterBackward", AllocatorFill.FillingNow));

        var expected = new List<(string, bool)>
        {
            ("first forward", true), ("after first forward", false), ("second forward", true), ("after second forward", false),
            ("forward done", false),
            ("right before second backward", false), ("right after second backward", true),
            ("right before first backward", false),
        };
        if (inputNeedsGradient)
        {
            expected.Add(("right after first backward", true));
        }

        expected.AddRange([("backward done", !inputNeedsGradient), ("after AfterBackward", false)]);
        Assert.Equal(expected, seen);
    }

    [Fact]
    public void Evaluation_fills_only_inside_convolutions()
    {
        using var scope = NewDisposeScope();
        using var model = AllocatorFill.Guard(new TwoConvolutions());
        bool inside = false;
        model.Second.register_forward_pre_hook((_, input) =>
        {
            inside = AllocatorFill.FillingNow;
            return input;
        });
        using (no_grad())
        {
            model.call(rand(2, 1, 12, 12));
        }

        Assert.True(inside);
        Assert.False(AllocatorFill.FillingNow);
    }

    [Fact]
    public void A_model_the_generator_did_not_guard_is_filled_for_its_whole_run()
    {
        using var model = new TwoConvolutions();
        using (AllocatorFill.For(model))
        {
            Assert.True(AllocatorFill.FillingNow);
        }

        Assert.False(AllocatorFill.FillingNow);
        using var guarded = AllocatorFill.Guard(new TwoConvolutions());
        using (AllocatorFill.For(guarded))
        {
            Assert.False(AllocatorFill.FillingNow);
        }
    }

    private sealed class TwoConvolutions : nn.Module<Tensor, Tensor>
    {
        public TwoConvolutions()
            : base(nameof(TwoConvolutions))
        {
            First = nn.Conv2d(1, 4, 3);
            Second = nn.Conv2d(4, 6, 3);
            RegisterComponents();
        }

        public TorchSharp.Modules.Conv2d First { get; }

        public TorchSharp.Modules.Conv2d Second { get; }

        public override Tensor forward(Tensor input) =>
            Second.call(nn.functional.relu(First.call(input))).flatten(1);
    }

    /// <summary>An identity node that records, when its backward runs, whether the fill is on.</summary>
    private sealed class Probe : torch.autograd.SingleTensorFunction<Probe>
    {
        public override string Name => "AllocatorFillProbe";

        public static Tensor Apply(Tensor tensor, List<(string, bool)> seen, string where) => apply(tensor, seen, where);

        public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            ctx.save_data("seen", vars[1]);
            ctx.save_data("where", vars[2]);
            return ((Tensor)vars[0]).alias();
        }

        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor grad_output)
        {
            ((List<(string, bool)>)ctx.get_data("seen")).Add(((string)ctx.get_data("where"), AllocatorFill.FillingNow));

            // One gradient per argument: none for the list and the label.
            return [grad_output, null!, null!];
        }
    }
}
