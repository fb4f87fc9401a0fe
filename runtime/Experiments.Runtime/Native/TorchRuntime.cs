using System.Reflection;
using System.Runtime.InteropServices;
using Experiments.Build;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Runtime.Native;

/// <summary>Loads LibTorch once per process and puts it into the deterministic state every run relies on.</summary>
public static partial class TorchRuntime
{
    private static readonly object Gate = new();
    private static int? _threads;

    /// <summary>The backend the application was built with (the TorchBackend MSBuild property, in its runtimeconfig.json).</summary>
    public static string Backend { get; } = HostOption("Experiments.TorchBackend") ?? "unknown";

    public static string TorchSharpVersion { get; } =
        typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";

    public static string LibTorchPackage { get; } = HostOption("Experiments.LibTorchPackage") ?? "unknown";

    /// <summary>The LibTorch version TorchSharp was built against (an external backend's LibTorch must be this one).</summary>
    public static string ExpectedLibTorchVersion { get; } = HostOption("Experiments.LibTorchVersion") ?? "unknown";

    /// <summary>Whether LibTorch has been loaded into this process (kernel choices made by variables are fixed from then on).</summary>
    public static bool IsLoaded { get; private set; }

    /// <summary>
    /// Loads the native library, pins the intra-op thread count and turns deterministic algorithms on.
    /// Thread count is part of a result's identity: 1 and 2 threads give different bits
    /// (measured on MNIST: max |logit difference| 0.04 between 1 and 2 threads, bitwise equal across processes at 2).
    /// </summary>
    public static void Initialize(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        lock (Gate)
        {
            EnsureLoaded();
            if (_threads != threads)
            {
                torch.set_num_threads(threads);
                _threads = threads;
            }

            // EXPERIMENTS_DETERMINISTIC=off leaves LibTorch's switch off (for measuring its cost; results record
            // deterministic: false and so never compare exactly with approved snapshots).
            if (Environment.GetEnvironmentVariable("EXPERIMENTS_DETERMINISTIC") != "off")
            {
                DeterministicAlgorithms.Enable();
            }
        }
    }

    /// <summary>Makes TorchSharp load LibTorch, turning its misleading failure into one that names the real cause.</summary>
    public static void EnsureLoaded()
    {
        // cuBLAS reads this when CUDA first initialises; it must be in the native environment before that.
        SetNativeEnvironment("CUBLAS_WORKSPACE_CONFIG", ":4096:8", overwrite: false);
        NativeMemory.PinMallocThresholds();
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException)
        {
            string explanation = OperatingSystem.IsLinux()
                ? NativeLoadDiagnosis.Explain(AppContext.BaseDirectory, LibStdCxxCompat.FindHostLibStdCxx())
                : "Check that the libtorch package for this platform is referenced (TorchBackend=cpu) or LibTorch is on the library path.";
            throw new NativeLoadException($"TorchSharp could not load LibTorch. {explanation}", e);
        }

        IsLoaded = true;
        AllocatorFill.Apply();
        if (Environment.GetEnvironmentVariable(KernelSet.OneDnnVariable) is { Length: > 0 } oneDnn)
        {
            DeterministicAlgorithms.SetOneDnn(oneDnn switch
            {
                "on" => true,
                "off" => false,
                _ => throw new ArgumentException($"{KernelSet.OneDnnVariable}={oneDnn}: use on or off."),
            });
        }
    }

    /// <summary>Resolves cpu, cuda, cuda:N or auto to a device of this process (see <see cref="DeviceRequest"/>).</summary>
    public static Device ResolveDevice(string name)
    {
        DeviceRequest resolved = Resolve(name);
        return resolved.Kind == DeviceKind.Cpu ? torch.CPU : torch.device(DeviceType.CUDA, resolved.Index);
    }

    /// <summary>The concrete device (cpu or cuda:N) that <paramref name="name"/> means in this process; loads LibTorch unless it is cpu.</summary>
    public static DeviceRequest Resolve(string name)
    {
        DeviceRequest request = DeviceRequest.Parse(name);
        if (request.Kind == DeviceKind.Cpu)
        {
            return request;
        }

        EnsureLoaded();
        return request.Resolve(torch.cuda.is_available() ? torch.cuda.device_count() : 0, Backend);
    }

    /// <summary>
    /// TF32 (10-bit mantissa) matrix products and convolutions on Ampere and newer GPUs: off unless an experiment asks
    /// for it. LibTorch's default leaves cuDNN's on, which would make a convolution's bits depend on the GPU generation.
    /// </summary>
    public static void SetTf32(bool allowed)
    {
        if (!torch.cuda.is_available())
        {
            return;
        }

        torch.backends.cuda.matmul.allow_tf32 = allowed;
        torch.backends.cudnn.allow_tf32 = allowed;
    }

    /// <summary>Seeds torch's generators (CPU and, when present, every CUDA device).</summary>
    public static void Seed(long seed)
    {
        torch.manual_seed(seed);
        if (torch.cuda.is_available())
        {
            torch.cuda.manual_seed_all(seed);
        }
    }

    /// <summary>
    /// Recorded by the application's build, not the runtime's: the runtime is one package for every backend, and the
    /// application (or test project) is what picks LibTorch.
    /// </summary>
    private static string? HostOption(string key) => AppContext.GetData(key) as string is { Length: > 0 } value ? value : null;

    /// <summary>Environment.SetEnvironmentVariable does not reach native getenv on Unix; libc's setenv does.</summary>
    internal static void SetNativeEnvironment(string name, string value, bool overwrite)
    {
        if (OperatingSystem.IsWindows())
        {
            if (overwrite || Environment.GetEnvironmentVariable(name) is null)
            {
                Environment.SetEnvironmentVariable(name, value);
            }

            return;
        }

        _ = SetEnv(name, value, overwrite ? 1 : 0);
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}

public sealed class NativeLoadException(string message, Exception inner) : Exception(message, inner);

public sealed class DeviceUnavailableException(string message) : Exception(message);
