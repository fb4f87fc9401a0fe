using System.Runtime.InteropServices;

namespace Experiments.Runtime.Native;

/// <summary>
/// What LibTorch's CPU allocator writes into a block before a kernel gets it. LibTorch 2.10's oneDNN (v3.7.1) reads
/// memory it never wrote in convolutions whose channel counts are not a multiple of the vector block: backward-data
/// reads the padded part of the weights it reordered into a blocked layout (ABcd16a16b at AVX-512, ABcd8a8b at AVX2),
/// and at AVX2 some forward passes read the padded channels of their source. It multiplies that memory by zero, so
/// finite garbage leaves the bits alone and a NaN byte pattern turns the gradient to NaN; which one a run gets depends
/// on what the heap held, so runs diverged in 4 of 6 processes on one CPU and never on another (docs/reproducibility.md,
/// "Memory nobody wrote"; reproducer in docs/repro/conv-uninitialized). Zero-filling every allocation through c10's own
/// flag makes that memory zero on every run and every CPU, with the bits the lucky runs had.
/// </summary>
public static class AllocatorFill
{
    /// <summary>EXPERIMENTS_ALLOCATOR_FILL: zero (default), junk (c10's NaN pattern, to reproduce the read) or none (LibTorch's default).</summary>
    public const string Variable = "EXPERIMENTS_ALLOCATOR_FILL";

    private const string ZeroFlag = "FLAGS_caffe2_cpu_allocator_do_zero_fill";
    private const string JunkFlag = "FLAGS_caffe2_cpu_allocator_do_junk_fill";

    private static readonly object Gate = new();
    private static string? _mode;

    /// <summary>The fill in force in this process (zero, junk or none), recorded in a result's identity; null before <see cref="Apply"/>.</summary>
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

            string mode = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } requested ? requested : "zero";
            (bool zero, bool junk) = mode switch
            {
                "zero" => (true, false),
                "junk" => (false, true),
                "none" => (false, false),
                _ => throw new ArgumentException($"{Variable}={mode} is not a fill: use zero (the default), junk or none."),
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
            _mode = mode;
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
