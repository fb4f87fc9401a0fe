using System.Runtime.InteropServices;

namespace Experiments.Runtime.Native;

/// <summary>
/// Keeps a long training run's resident memory flat on glibc. LibTorch allocates each batch's activations and
/// gradients with malloc; glibc serves blocks above its mmap threshold with mmap and returns them on free, but every
/// such free also raises the threshold (up to 32 MiB), after which the same sizes come from the heap and stay
/// resident when freed. Measured with benchmarks/Experiments.Benchmarks (seed 003's MLP, 12 epochs of 3000
/// images): RSS after epoch 2 grew 49% by default and 6% with a fixed threshold. Setting the threshold once
/// (mallopt M_MMAP_THRESHOLD) turns the adjustment off. An explicit MALLOC_MMAP_THRESHOLD_ is left alone.
/// </summary>
internal static partial class NativeMemory
{
    private const int MmapThresholdParameter = -3; // M_MMAP_THRESHOLD in glibc's malloc.h
    private const int MmapThresholdBytes = 128 * 1024; // glibc's own starting value

    private static bool _pinned;

    public static void PinMmapThreshold()
    {
        if (_pinned || !OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null)
        {
            return;
        }

        try
        {
            _ = mallopt(MmapThresholdParameter, MmapThresholdBytes);
        }
        catch (EntryPointNotFoundException)
        {
            // Not glibc (musl has no tunable threshold): nothing to pin.
        }

        _pinned = true;
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int parameter, int value);
}
