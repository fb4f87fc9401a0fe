using System.Runtime.InteropServices;

namespace Experiments.Runtime.Native;

/// <summary>
/// Switches LibTorch's deterministic algorithms on. TorchSharp 0.107's torch.use_deterministic_algorithms is
/// marked obsolete ("not implemented", a compile error), so this binds the at::Context entry points that
/// libtorch_cpu exports: Itanium-mangled names on Linux and macOS (checked on CPU and CUDA LibTorch), MSVC-mangled ones on Windows (read
/// from the export table of torch_cpu.dll in libtorch-cpu-win-x64 2.10.0 with `llvm-objdump -p`).
/// </summary>
public static unsafe class DeterministicAlgorithms
{
    private static readonly object Gate = new();
    private static nint _context;
    private static delegate* unmanaged<nint, byte, byte, void> _setDeterministic;
    private static delegate* unmanaged<nint, byte> _getDeterministic;
    private static delegate* unmanaged<nint, byte, void> _setDeterministicCuDnn;
    private static delegate* unmanaged<nint, byte, void> _setBenchmarkCuDnn;
    private static delegate* unmanaged<nint, byte, void> _setUserEnabledMkldnn;

    /// <summary>Turns deterministic algorithms on (error on a non-deterministic op), cuDNN deterministic, benchmark off.</summary>
    public static void Enable()
    {
        Bind();
        _setDeterministic(_context, 1, 0);
        _setDeterministicCuDnn(_context, 1);
        _setBenchmarkCuDnn(_context, 0);
        if (!IsEnabled)
        {
            throw new InvalidOperationException("LibTorch did not keep deterministic algorithms on after setDeterministicAlgorithms(true).");
        }
    }

    public static bool IsEnabled
    {
        get
        {
            Bind();
            return _getDeterministic(_context) != 0;
        }
    }

    /// <summary>
    /// Lets LibTorch use oneDNN (convolutions, LSTM and the like) or not; off, ATen runs its own kernels (im2col and
    /// oneMKL for convolutions, cell by cell for recurrent layers). Chosen with EXPERIMENTS_ONEDNN (see KernelSet).
    /// </summary>
    public static void SetOneDnn(bool enabled)
    {
        if (!TrySetOneDnn(enabled))
        {
            throw new PlatformNotSupportedException("This LibTorch exports no at::Context::setUserEnabledMkldnn: oneDNN cannot be turned off here; unset EXPERIMENTS_ONEDNN.");
        }
    }

    /// <summary>As <see cref="SetOneDnn"/>; false, changing nothing, where this LibTorch exports no switch.</summary>
    public static bool TrySetOneDnn(bool enabled)
    {
        Bind();
        if (_setUserEnabledMkldnn == null)
        {
            return false;
        }

        _setUserEnabledMkldnn(_context, enabled ? (byte)1 : (byte)0);
        OneDnnEnabled = enabled;
        return true;
    }

    /// <summary>Whether oneDNN is allowed now (LibTorch's default: yes); what <see cref="SetOneDnn"/> last set.</summary>
    public static bool OneDnnEnabled { get; private set; } = true;

    private static void Bind()
    {
        lock (Gate)
        {
            if (_context != 0)
            {
                return;
            }

            string library = OperatingSystem.IsWindows() ? "torch_cpu.dll" : OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so";
            // TorchSharp has already loaded LibTorch; loading by soname returns that same copy.
            if (!NativeLibrary.TryLoad(library, out nint handle))
            {
                throw new InvalidOperationException($"{library} is not loaded; initialise TorchSharp first.");
            }

            ContextSymbols names = OperatingSystem.IsWindows() ? ContextSymbols.Msvc : ContextSymbols.Itanium;
            var globalContext = (delegate* unmanaged<nint>)NativeLibrary.GetExport(handle, names.GlobalContext);
            _setDeterministic = (delegate* unmanaged<nint, byte, byte, void>)NativeLibrary.GetExport(handle, names.SetDeterministicAlgorithms);
            _getDeterministic = (delegate* unmanaged<nint, byte>)NativeLibrary.GetExport(handle, names.DeterministicAlgorithms);
            _setDeterministicCuDnn = (delegate* unmanaged<nint, byte, void>)NativeLibrary.GetExport(handle, names.SetDeterministicCuDnn);
            _setBenchmarkCuDnn = (delegate* unmanaged<nint, byte, void>)NativeLibrary.GetExport(handle, names.SetBenchmarkCuDnn);
            // Looked up softly: its MSVC name was derived from its siblings', not read from a DLL.
            _setUserEnabledMkldnn = NativeLibrary.TryGetExport(handle, names.SetUserEnabledMkldnn, out nint set) ? (delegate* unmanaged<nint, byte, void>)set : null;
            _context = globalContext();
        }
    }

    /// <summary>The exported names of at::globalContext() and the at::Context members used, per C++ ABI.</summary>
    internal sealed record ContextSymbols(
        string GlobalContext, string SetDeterministicAlgorithms, string DeterministicAlgorithms, string SetDeterministicCuDnn, string SetBenchmarkCuDnn,
        string SetUserEnabledMkldnn)
    {
        public static ContextSymbols Itanium { get; } = new(
            "_ZN2at13globalContextEv",
            "_ZN2at7Context26setDeterministicAlgorithmsEbb",
            "_ZNK2at7Context23deterministicAlgorithmsEv",
            "_ZN2at7Context21setDeterministicCuDNNEb",
            "_ZN2at7Context17setBenchmarkCuDNNEb",
            "_ZN2at7Context20setUserEnabledMkldnnEb");

        public static ContextSymbols Msvc { get; } = new(
            "?globalContext@at@@YAAEAVContext@1@XZ",
            "?setDeterministicAlgorithms@Context@at@@QEAAX_N0@Z",
            "?deterministicAlgorithms@Context@at@@QEBA_NXZ",
            "?setDeterministicCuDNN@Context@at@@QEAAX_N@Z",
            "?setBenchmarkCuDNN@Context@at@@QEAAX_N@Z",
            "?setUserEnabledMkldnn@Context@at@@QEAAX_N@Z");
    }
}
