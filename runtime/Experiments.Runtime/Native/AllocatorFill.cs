using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Experiments.Runtime.Native;

/// <summary>
/// What LibTorch's CPU allocator writes into a block before a kernel gets it. LibTorch 2.10's oneDNN (v3.7.1) reads
/// memory it never wrote in convolutions whose channel counts are not a multiple of the vector block: backward-data
/// reads the padded part of the weights it reordered into a blocked layout (ABcd16a16b at AVX-512, ABcd8a8b at AVX2),
/// and at AVX2 some forward passes read the padded channels of their source. It multiplies that memory by zero, so
/// finite garbage leaves the bits alone and a NaN byte pattern turns the gradient to NaN; which one a run gets depends
/// on what the heap held, so runs diverged in 4 of 6 processes on one CPU and never on another (docs/reproducibility.md,
/// "Memory nobody wrote"; reproducer in docs/repro/conv-uninitialized). Zero-filling the blocks those kernels get
/// through c10's own flag makes that memory zero on every run and every CPU, with the bits the lucky runs had.
/// <para>
/// The default fill, <c>convolutions</c>, zero-fills exactly the blocks allocated while a convolution runs: its forward
/// call (<see cref="Guard"/>: the module's forward hooks) and its backward node (two identity nodes in the autograd graph,
/// one after the convolution's output, whose backward opens the fill just before the convolution's backward runs, and one
/// before its input, whose backward closes it after). Everything else (activations, pooling, losses, optimizer steps:
/// about 85% of the bytes a CNN allocates per batch) gets LibTorch's unfilled blocks, as in PyTorch. Filling every block
/// (<c>zero</c>) cost the CNNs a quarter of their training throughput. The scope only ever errs towards filling more: an
/// exception, or a backward pass that is not followed by <see cref="AfterBackward"/>, leaves the fill on. Models the
/// generator did not write (hand-written <see cref="IExperiment"/>s may call convolutions as functions, which no hook
/// sees) run with every block filled (<see cref="For"/>). The poisoned-allocation tests check the rest: any other kernel
/// that read memory it did not write would turn those runs to NaN.
/// </para>
/// </summary>
public static class AllocatorFill
{
    /// <summary>
    /// EXPERIMENTS_ALLOCATOR_FILL: convolutions (default: zero-fill the blocks convolutions allocate), zero (every block),
    /// junk (c10's NaN pattern in every block, to reproduce the read) or none (LibTorch's default).
    /// </summary>
    public const string Variable = "EXPERIMENTS_ALLOCATOR_FILL";

    private const string ZeroFlag = "FLAGS_caffe2_cpu_allocator_do_zero_fill";
    private const string JunkFlag = "FLAGS_caffe2_cpu_allocator_do_junk_fill";

    private static readonly object Gate = new();
    private static string? _mode;

    /// <summary>The zero-fill flag while the fill is scoped (mode convolutions), else zero: then scopes do nothing.</summary>
    private static nint _scopedFlag;

    /// <summary>How many scopes are open (forward calls, backward nodes, whole runs); the flag is set while it is above zero.</summary>
    private static int _depth;

    /// <summary>
    /// Backward scopes this thread opened for convolutions whose input needs no gradient: nothing closes them inside the
    /// graph (no node runs after such a convolution's backward), so <see cref="AfterBackward"/> does. CPU autograd runs
    /// on the thread that called backward; a pass that runs elsewhere leaves its scopes open, which only fills more.
    /// </summary>
    [ThreadStatic]
    private static int _unclosed;

    private static readonly ConditionalWeakTable<nn.Module, object> Guarded = new();

    /// <summary>The fill in force in this process (convolutions, zero, junk or none), recorded in a result's identity; null before <see cref="Apply"/>.</summary>
    public static string? Mode => _mode;

    /// <summary>Sets c10's flags once LibTorch is loaded and before any tensor a kernel reads is allocated.</summary>
    public static void Apply()
    {
        lock (Gate)
        {
            if (_mode is not null)
            {
                return;
            }

            string mode = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } requested ? requested : "convolutions";
            (bool zero, bool junk) = mode switch
            {
                "convolutions" => (false, false),
                "zero" => (true, false),
                "junk" => (false, true),
                "none" => (false, false),
                _ => throw new ArgumentException($"{Variable}={mode} is not a fill: use convolutions (the default), zero, junk or none."),
            };
            nint c10 = LoadC10();
            if (!NativeLibrary.TryGetExport(c10, ZeroFlag, out nint zeroFlag) || !NativeLibrary.TryGetExport(c10, JunkFlag, out nint junkFlag))
            {
                // A LibTorch build that does not export c10's flags: nothing can be chosen, and the identity says so.
                _mode = "none (c10 exports no fill flags)";
                return;
            }

            Marshal.WriteByte(zeroFlag, zero ? (byte)1 : (byte)0);
            Marshal.WriteByte(junkFlag, junk ? (byte)1 : (byte)0);
            _scopedFlag = mode == "convolutions" ? zeroFlag : 0;
            _mode = mode;
        }
    }

    /// <summary>
    /// Scopes every convolution of <paramref name="model"/> (Conv1d/2d/3d and transposed, wherever they sit): the fill is
    /// on while its forward call runs and while its backward node runs. The generated models' CreateModel calls this.
    /// </summary>
    public static TModule Guard<TModule>(TModule model) where TModule : nn.Module
    {
        foreach (nn.Module module in model.modules())
        {
            if (module is Convolution convolution)
            {
                // The flag is c10's CPU allocator's: a convolution on another device allocates nothing it fills.
                convolution.register_forward_pre_hook(static (_, input) =>
                {
                    if (input.device_type != DeviceType.CPU)
                    {
                        return input;
                    }

                    Enter();
                    return IsRecording(input) ? CloseAfterBackward.apply(input) : input;
                });
                convolution.register_forward_hook(static (_, input, output) =>
                {
                    if (input.device_type != DeviceType.CPU)
                    {
                        return output;
                    }

                    Exit();
                    return !IsRecording(output) ? output
                        : OpenBeforeBackward.apply(output, IsRecording(input));
                });
            }
        }

        Guarded.AddOrUpdate(model, Guarded);
        return model;
    }

    /// <summary>
    /// The fill for a whole run or prediction of <paramref name="model"/>: nothing more for a model <see cref="Guard"/>
    /// scoped, every block for any other (its convolutions may be calls no hook sees).
    /// </summary>
    public static IDisposable For(nn.Module model)
    {
        if (Guarded.TryGetValue(model, out _))
        {
            return NoScope.Instance;
        }

        Enter();
        return new RunScope();
    }

    /// <summary>
    /// The fill for convolutions that run inside the runtime's own code, where no module hook sees them (a custom autograd
    /// function's forward or backward): on until disposed, as for a guarded convolution's call.
    /// </summary>
    internal static IDisposable ForConvolution() => Enter() ? new RunScope() : NoScope.Instance;

    /// <summary>Closes the backward scopes of convolutions whose input needed no gradient; call after each backward pass.</summary>
    public static void AfterBackward()
    {
        if (_unclosed == 0)
        {
            return;
        }

        lock (Gate)
        {
            _depth -= _unclosed;
            _unclosed = 0;
            WriteFlag();
        }
    }

    /// <summary>Whether the fill is on now (tests: scopes open and close where they should).</summary>
    public static bool FillingNow => _scopedFlag == 0 ? _mode is "zero" : Marshal.ReadByte(_scopedFlag) != 0;

    private static bool IsRecording(Tensor tensor) => torch.is_grad_enabled() && tensor.requires_grad;

    /// <summary>Opens a scope; false when the fill is not scoped (nothing to open).</summary>
    private static bool Enter()
    {
        if (_scopedFlag == 0)
        {
            return false;
        }

        lock (Gate)
        {
            _depth++;
            WriteFlag();
        }

        return true;
    }

    private static void Exit()
    {
        if (_scopedFlag == 0)
        {
            return;
        }

        lock (Gate)
        {
            _depth--;
            WriteFlag();
        }
    }

    // Under Gate: a flag written outside the lock could be cleared by one thread after another opened its scope.
    private static void WriteFlag() => Marshal.WriteByte(_scopedFlag, _depth > 0 ? (byte)1 : (byte)0);

    /// <summary>Identity forward; its backward runs right after the convolution's input gradient is complete: closes the scope.</summary>
    private sealed class CloseAfterBackward : torch.autograd.SingleTensorFunction<CloseAfterBackward>
    {
        public override string Name => "AllocatorFillClose";

        public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars) => ((Tensor)vars[0]).alias();

        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor grad_output)
        {
            Exit();
            return [grad_output];
        }
    }

    /// <summary>
    /// Identity forward; its backward runs right before the convolution's backward node: opens the scope. Where the
    /// convolution's input needs no gradient (second argument false), no node closes it in the graph, so
    /// <see cref="AfterBackward"/> does.
    /// </summary>
    private sealed class OpenBeforeBackward : torch.autograd.SingleTensorFunction<OpenBeforeBackward>
    {
        public override string Name => "AllocatorFillOpen";

        public override Tensor forward(torch.autograd.AutogradContext ctx, params object[] vars)
        {
            ctx.save_data("closed", vars[1]);
            return ((Tensor)vars[0]).alias();
        }

        public override List<Tensor> backward(torch.autograd.AutogradContext ctx, Tensor grad_output)
        {
            if (Enter() && ctx.get_data("closed") is false)
            {
                _unclosed++;
            }

            // One gradient per argument: none for the flag.
            return [grad_output, null!];
        }
    }

    private sealed class RunScope : IDisposable
    {
        private bool _closed;

        public void Dispose()
        {
            if (!_closed)
            {
                _closed = true;
                Exit();
            }
        }
    }

    private sealed class NoScope : IDisposable
    {
        public static readonly NoScope Instance = new();

        public void Dispose()
        {
        }
    }

    private static nint LoadC10()
    {
        string library = OperatingSystem.IsWindows() ? "c10.dll" : OperatingSystem.IsMacOS() ? "libc10.dylib" : "libc10.so";
        // TorchSharp has already loaded LibTorch; loading by soname returns that same copy.
        return NativeLibrary.TryLoad(library, out nint handle)
            ? handle
            : throw new InvalidOperationException($"{library} is not loaded; initialise TorchSharp first.");
    }
}
