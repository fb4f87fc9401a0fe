using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Experiments.Runtime.Native;

/// <summary>
/// What was actually loaded into this process, read from the libraries themselves rather than from the build's
/// package references: LibTorch's version and the CUDA and cuDNN it was built with (at::show_config), the cuDNN that
/// answers (cudnnGetVersion), and each GPU's model and compute capability (the CUDA driver API). An external LibTorch
/// (a PyTorch install's torch/lib) or another GPU is thereby never taken for the environment a snapshot was approved in.
/// </summary>
public static unsafe class LoadedLibraries
{
    private static readonly Lazy<string?> Config = new(ReadShowConfig);

    /// <summary>at::show_config()'s text: build settings and the versions of the libraries LibTorch was built with; null where it cannot be called.</summary>
    public static string? ShowConfig => Config.Value;

    /// <summary>The loaded LibTorch's version (TORCH_VERSION of its build settings), or null.</summary>
    public static string? LibTorchVersion => ShowConfig is { } text ? Field(text, @"TORCH_VERSION=([^,\s]+)") : null;

    /// <summary>The CUDA runtime LibTorch was built against ("12.8"), or null for a CPU build.</summary>
    public static string? CudaRuntimeVersion => ShowConfig is { } text ? Field(text, @"CUDA Runtime ([0-9.]+)") : null;

    /// <summary>
    /// What the result's identity calls the LibTorch in use: the build's package name with the loaded version checked
    /// against it, or for an external LibTorch its own version and, on CUDA, the CUDA and cuDNN versions loaded.
    /// </summary>
    public static string Describe(string package, bool cuda)
    {
        string version = LibTorchVersion ?? "unknown version";
        string cudaPart = cuda ? $", CUDA {CudaRuntimeVersion ?? "unknown"}, cuDNN {CuDnnVersion() ?? "not loaded"}" : "";
        if (package == "external" || package == "unknown")
        {
            return $"external LibTorch {version}{cudaPart}";
        }

        // The package's own version, then what the loaded library says when it says something else.
        string declared = package.Split(' ').Last();
        return (version == declared || LibTorchVersion is null ? package : $"{package} (loaded: {version})") + cudaPart;
    }

    /// <summary>The version the loaded cuDNN reports ("9.10.2"), or null when none is loaded or loadable.</summary>
    public static string? CuDnnVersion()
    {
        foreach (string name in new[] { "libcudnn.so.9", "libcudnn.so.8", "libcudnn.so", "cudnn64_9.dll", "cudnn64_8.dll" })
        {
            if (NativeLibrary.TryLoad(name, out nint handle) && NativeLibrary.TryGetExport(handle, "cudnnGetVersion", out nint get))
            {
                long number = (long)((delegate* unmanaged<nuint>)get)();
                // cuDNN 9 encodes major * 10000 + minor * 100 + patch; cuDNN 8 major * 1000 + minor * 100 + patch.
                return number >= 90000
                    ? FormattableString.Invariant($"{number / 10000}.{number / 100 % 100}.{number % 100}")
                    : FormattableString.Invariant($"{number / 1000}.{number / 100 % 10}.{number % 100}");
            }
        }

        return null;
    }

    /// <summary>The GPU behind CUDA device <paramref name="ordinal"/>: "NVIDIA H200, compute capability 9.0", from the driver API; null without a driver.</summary>
    public static string? GpuModel(int ordinal)
    {
        string driver = OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";
        if (!NativeLibrary.TryLoad(driver, out nint cuda)
            || !NativeLibrary.TryGetExport(cuda, "cuInit", out nint init)
            || !NativeLibrary.TryGetExport(cuda, "cuDeviceGet", out nint get)
            || !NativeLibrary.TryGetExport(cuda, "cuDeviceGetName", out nint getName)
            || !NativeLibrary.TryGetExport(cuda, "cuDeviceGetAttribute", out nint getAttribute))
        {
            return null;
        }

        int device;
        if (((delegate* unmanaged<uint, int>)init)(0) != 0 || ((delegate* unmanaged<int*, int, int>)get)(&device, ordinal) != 0)
        {
            return null;
        }

        byte* name = stackalloc byte[256];
        int major = 0, minor = 0;
        const int ComputeCapabilityMajor = 75, ComputeCapabilityMinor = 76; // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_*
        if (((delegate* unmanaged<byte*, int, int, int>)getName)(name, 256, device) != 0
            || ((delegate* unmanaged<int*, int, int, int>)getAttribute)(&major, ComputeCapabilityMajor, device) != 0
            || ((delegate* unmanaged<int*, int, int, int>)getAttribute)(&minor, ComputeCapabilityMinor, device) != 0)
        {
            return null;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{Marshal.PtrToStringUTF8((nint)name)}, compute capability {major}.{minor}");
    }

    private static string? Field(string text, [StringSyntax(StringSyntaxAttribute.Regex)] string pattern) =>
        Regex.Match(text, pattern) is { Success: true } match ? match.Groups[1].Value : null;

    /// <summary>
    /// Calls at::show_config(), which returns a std::string by value: under the Itanium C++ ABI the caller passes the
    /// object's storage as a hidden first argument, and libstdc++'s string (the C++11 ABI, as the exported name says)
    /// starts with its data pointer and length. The string is left to the process (a few kilobytes, read once).
    /// </summary>
    private static string? ReadShowConfig()
    {
        if (OperatingSystem.IsWindows() || !TorchRuntime.IsLoaded)
        {
            return null;
        }

        string library = OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so";
        if (!NativeLibrary.TryLoad(library, out nint handle) || !NativeLibrary.TryGetExport(handle, "_ZN2at11show_configB5cxx11Ev", out nint showConfig))
        {
            return null;
        }

        nint* storage = stackalloc nint[4]; // pointer, length, 16 bytes of small-string buffer
        ((delegate* unmanaged<nint*, nint*>)showConfig)(storage);
        return Marshal.PtrToStringUTF8(storage[0], checked((int)storage[1]));
    }
}
