using System.Globalization;

namespace Experiments.Runtime.Native;

public enum DeviceKind
{
    Cpu,
    Cuda,

    /// <summary>The first CUDA device when this process has one, else the CPU (Lightning's accelerator="auto").</summary>
    Auto,
}

/// <summary>
/// A device as written on the command line or in experiments.yaml: <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c> or <c>auto</c>.
/// Parsing and resolving are separate from LibTorch so that the rules are the same, and testable, on machines without a GPU.
/// </summary>
public readonly record struct DeviceRequest(DeviceKind Kind, int Index)
{
    public const string Forms = "cpu, cuda, cuda:N or auto";

    public static DeviceRequest Cpu { get; } = new(DeviceKind.Cpu, 0);

    /// <summary>The form a result records and snapshots are filed under: cpu or cuda:N.</summary>
    public override string ToString() => Kind switch
    {
        DeviceKind.Cpu => "cpu",
        DeviceKind.Cuda => $"cuda:{Index.ToString(CultureInfo.InvariantCulture)}",
        _ => "auto",
    };

    public static bool TryParse(string? text, out DeviceRequest request)
    {
        string normalized = (text ?? "").Trim().ToLowerInvariant();
        request = normalized switch
        {
            "cpu" => Cpu,
            "cuda" => new DeviceRequest(DeviceKind.Cuda, 0),
            "auto" => new DeviceRequest(DeviceKind.Auto, 0),
            _ => default,
        };
        if (normalized is "cpu" or "cuda" or "auto")
        {
            return true;
        }

        if (normalized.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(normalized.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
        {
            request = new DeviceRequest(DeviceKind.Cuda, index);
            return true;
        }

        return false;
    }

    /// <exception cref="ArgumentException">The text is not one of the accepted forms (a usage error).</exception>
    public static DeviceRequest Parse(string? text) => TryParse(text, out DeviceRequest request)
        ? request
        : throw new ArgumentException($"Unknown device '{text}'. Use {Forms} (for example --device cuda:1).", nameof(text));

    /// <summary>
    /// The concrete device on a machine where LibTorch sees <paramref name="cudaDevices"/> CUDA devices.
    /// CUDA asked for where there is none is an error that says how to get it; auto never is.
    /// </summary>
    /// <param name="backend">The TorchBackend this program was built with, named in the error.</param>
    public DeviceRequest Resolve(int cudaDevices, string backend)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cudaDevices);
        switch (Kind)
        {
            case DeviceKind.Cpu:
                return Cpu;
            case DeviceKind.Auto:
                return cudaDevices > 0 ? new DeviceRequest(DeviceKind.Cuda, 0) : Cpu;
        }

        if (cudaDevices == 0)
        {
            string how = backend == "cpu"
                ? "This program was built with TorchBackend=cpu, whose LibTorch has no CUDA: build with -p:TorchBackend=cuda-linux (or cuda-windows), "
                    + "or -p:TorchBackend=external with a CUDA-enabled LibTorch on LD_LIBRARY_PATH"
                : $"This program was built with TorchBackend={backend}: check that `nvidia-smi` sees a GPU and that the CUDA LibTorch is the one loaded";
            throw new DeviceUnavailableException(
                $"Device '{this}' was requested but CUDA is not available in this process. {how}. Use --device cpu (or auto) to train on the CPU.");
        }

        if (Index >= cudaDevices)
        {
            throw new DeviceUnavailableException(
                $"Device '{this}' was requested but this machine has {cudaDevices} CUDA device(s): use cuda:0{(cudaDevices > 1 ? $" to cuda:{cudaDevices - 1}" : "")}.");
        }

        return this;
    }
}
