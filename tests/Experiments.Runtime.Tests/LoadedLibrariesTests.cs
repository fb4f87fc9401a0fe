using Experiments.Runtime.Native;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>The identity's LibTorch version comes from the library that was loaded, not from the package reference.</summary>
public sealed class LoadedLibrariesTests
{
    [Fact]
    public void The_loaded_LibTorch_reports_the_version_the_build_references()
    {
        TorchRuntime.EnsureLoaded();
        string referenced = TorchRuntime.LibTorchPackage.Split(' ').Last();
        Assert.Equal(referenced, LoadedLibraries.LibTorchVersion);
        Assert.Contains("Build settings", LoadedLibraries.ShowConfig, StringComparison.Ordinal);
        Assert.Null(LoadedLibraries.CudaRuntimeVersion);
    }

    [Fact]
    public void An_external_or_mismatched_LibTorch_is_named_by_its_loaded_version()
    {
        TorchRuntime.EnsureLoaded();
        string loaded = LoadedLibraries.LibTorchVersion!;
        Assert.Equal(TorchRuntime.LibTorchPackage, LoadedLibraries.Describe(TorchRuntime.LibTorchPackage, cuda: false));
        Assert.Equal($"external LibTorch {loaded}", LoadedLibraries.Describe("external", cuda: false));
        Assert.Equal($"libtorch-cpu-linux-x64 0.0.1 (loaded: {loaded})", LoadedLibraries.Describe("libtorch-cpu-linux-x64 0.0.1", cuda: false));
        Assert.Equal($"external LibTorch {loaded}, CUDA unknown, cuDNN not loaded", LoadedLibraries.Describe("external", cuda: true));
    }

    [WithoutCudaFact]
    public void Without_a_CUDA_driver_no_GPU_model_is_claimed() => Assert.Null(LoadedLibraries.GpuModel(0));
}
