using Experiments.Runtime.Native;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>Whether this test process can use CUDA (LibTorch loaded, a GPU visible); false when LibTorch cannot load at all.</summary>
internal static class Cuda
{
    private static readonly Lazy<bool> Present = new(() =>
    {
        try
        {
            TorchRuntime.EnsureLoaded();
            return TorchSharp.torch.cuda.is_available();
        }
        catch (Exception e) when (e is NativeLoadException or DllNotFoundException or TypeInitializationException)
        {
            return false;
        }
    });

    public static bool Available => Present.Value;
}

/// <summary>A fact about a machine without CUDA: skipped, with the reason in the test output, where this process has CUDA.</summary>
public sealed class WithoutCudaFactAttribute : FactAttribute
{
    public WithoutCudaFactAttribute()
    {
        if (Cuda.Available)
        {
            Skip = "this machine has CUDA; the test is about one without it (the CudaFact tests cover CUDA)";
        }
    }
}

/// <summary>A fact that needs CUDA: skipped, with the reason in the test output, on a machine without it.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (!Cuda.Available)
        {
            Skip = "needs a CUDA GPU and a CUDA build of LibTorch (-p:TorchBackend=cuda-linux, or external with a CUDA LibTorch)";
        }
    }
}
