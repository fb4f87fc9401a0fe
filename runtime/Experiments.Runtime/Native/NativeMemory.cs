using System.Runtime.InteropServices;

namespace Experiments.Runtime.Native;

/// <summary>
/// Keeps glibc's malloc serving LibTorch's batch buffers from memory it already has. LibTorch allocates each batch's
/// activations and gradients with malloc, and the allocator zero-fills every block (<see cref="AllocatorFill"/>), so a
/// block that comes from fresh pages costs a page fault per 4 KiB inside that fill. glibc's defaults hand out fresh
/// pages all the time; three settings, made with mallopt at start-up, stop it (each left alone where its MALLOC_*_
/// environment variable is set):
/// <list type="bullet">
/// <item>No mmap'd blocks (M_MMAP_MAX 0). glibc maps blocks above its mmap threshold (at most 32 MiB) and unmaps them
/// on free, so the next batch faults them in again. An evaluation batch of 1000 images through a CNN has activations
/// of 50-100 MB: mnist-cnn-32-48 evaluated 909 images/s with mapped blocks and 8476 from the heap, mnist-cnn-16-36
/// 3468 and 11707 (AMD EPYC family 26, 2 threads, `Experiments.Benchmarks speed`).</item>
/// <item>No trimming below 1 GiB (M_TRIM_THRESHOLD). Its 128 KiB default hands the top of the heap back to the kernel
/// whenever a free leaves that much there: 38% of seed 002's training time was page faults in the fill, and
/// mnist-branches-2 trained at 764 images/s; with the heap kept, 2401.</item>
/// <item>A fixed mmap threshold (M_MMAP_THRESHOLD, 32 MiB). Setting any of these turns off glibc's dynamic threshold,
/// which otherwise moves sizes from mmap to the heap over the first epochs and made RSS creep up 49% between epochs 2
/// and 12 (memory benchmark, seed 003's MLP); it matters where MALLOC_MMAP_MAX_ re-enables mmap.</item>
/// </list>
/// The heap then stays at the run's high-water mark, which it reaches in the first epoch (the memory benchmark checks
/// that it stays flat). None of this changes a computed value: every block is zero-filled wherever it comes from.
/// </summary>
internal static partial class NativeMemory
{
    private const int TrimThresholdParameter = -1; // M_TRIM_THRESHOLD in glibc's malloc.h
    private const int MmapThresholdParameter = -3; // M_MMAP_THRESHOLD
    private const int MmapMaxParameter = -4; // M_MMAP_MAX
    private const int TrimThresholdBytes = 1024 * 1024 * 1024;
    private const int MmapThresholdBytes = 32 * 1024 * 1024; // glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit

    private static bool _pinned;

    public static void PinMallocThresholds()
    {
        if (_pinned || !OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            Set("MALLOC_MMAP_THRESHOLD_", MmapThresholdParameter, MmapThresholdBytes);
            Set("MALLOC_TRIM_THRESHOLD_", TrimThresholdParameter, TrimThresholdBytes);
            Set("MALLOC_MMAP_MAX_", MmapMaxParameter, 0);
        }
        catch (EntryPointNotFoundException)
        {
            // Not glibc (musl has no such tunables): nothing to pin.
        }

        _pinned = true;
    }

    private static void Set(string variable, int parameter, int value)
    {
        if (Environment.GetEnvironmentVariable(variable) is null)
        {
            _ = mallopt(parameter, value);
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int parameter, int value);
}
