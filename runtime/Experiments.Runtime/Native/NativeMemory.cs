using System.Runtime.InteropServices;

namespace Experiments.Runtime.Native;

/// <summary>
/// Keeps a long training run's resident memory flat on glibc without giving up speed. LibTorch allocates each
/// batch's activations and gradients with malloc. glibc starts by serving blocks above 128 KiB with mmap, and every
/// free of such a block raises that threshold (up to 32 MiB), so for the first epochs the heap keeps growing as
/// sizes move from mmap to the heap: RSS crept up 49% between epochs 2 and 12 (memory benchmark, seed 003's MLP).
/// Pinning the threshold with mallopt turns the adjustment off. Pinned at 128 KiB, every large buffer is mapped
/// and unmapped per batch (page faults and zeroing): RSS flat, but half the throughput (CNN 16/36: 2194 training
/// images/s). Pinned at glibc's own ceiling, 32 MiB, the heap reaches its working size in the first epoch and
/// stays there: RSS flat (303-307 MB from epoch 3 to 12) and CNN 16/36 at 4098 images/s, MLP 512 at 17789 (was
/// 8530). An explicit MALLOC_MMAP_THRESHOLD_ is left alone.
/// <para>
/// Pinning the mmap threshold also pins glibc's trim threshold, at 128 KiB: every free that leaves more than that at
/// the top of the heap hands the memory back to the kernel, and the next batch faults every page in again. With
/// every allocation zero-filled (<see cref="AllocatorFill"/>) the fill is what touches those fresh pages: on AMD EPYC
/// family 26, 38% of seed 002's training time was page faults inside that memset, and mnist-branches-2 trained at 764
/// images/s. Trimming only above 1 GiB keeps the heap at its working size (RSS no higher: the heap's high-water mark
/// is the same) and the model trains at 2401 images/s, same bits. An explicit MALLOC_TRIM_THRESHOLD_ is left alone.
/// </para>
/// </summary>
internal static partial class NativeMemory
{
    private const int MmapThresholdParameter = -3; // M_MMAP_THRESHOLD in glibc's malloc.h
    private const int MmapThresholdBytes = 32 * 1024 * 1024; // glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit
    private const int TrimThresholdParameter = -1; // M_TRIM_THRESHOLD
    private const int TrimThresholdBytes = 1024 * 1024 * 1024;

    private static bool _pinned;

    public static void PinMallocThresholds()
    {
        if (_pinned || !OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            if (Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is null)
            {
                _ = mallopt(MmapThresholdParameter, MmapThresholdBytes);
            }

            if (Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is null)
            {
                _ = mallopt(TrimThresholdParameter, TrimThresholdBytes);
            }
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
