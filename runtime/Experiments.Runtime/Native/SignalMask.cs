using System.Runtime.InteropServices;

namespace Experiments.Runtime.Native;

/// <summary>
/// Keeps SIGCONT, SIGINT and SIGTERM off the thread that trains (and the LibTorch worker threads it starts), so that
/// the kernel delivers them to one of the runtime's own threads. Measured with the catalog's LSTM on this machine: a
/// SIGCONT arriving while the training thread was inside oneDNN's LSTM backward pass killed the process with heap
/// corruption ("corrupted size vs. prev_size while consolidating", in avx512_common_gemm_f32's free): SIGCONT then
/// SIGTERM (what `scancel` sends) 5 of 26 runs, still 5 of 32 with only SIGINT and SIGTERM blocked, SIGCONT alone 1 of
/// 8, SIGTERM alone 0 of 16, no signal 0 of 16; with all three blocked on the training thread, SIGCONT then SIGTERM 0
/// of 32. Shells send SIGCONT on `fg` and Slurm on resume too.
/// Stop requests still work: .NET's signal thread runs the handler, which only sets the flag the loop checks at the
/// next batch boundary. .NET has no API for a thread's signal mask, hence libc.
/// </summary>
internal static partial class SignalMask
{
    private const int SigInt = 2;
    private const int SigTerm = 15;

    // SIGCONT: 18 on Linux, 19 on macOS.
    private static int SigCont => OperatingSystem.IsLinux() ? 18 : 19;

    public static void BlockOnThisThread()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }

        // sigset_t is 128 bytes on glibc and musl, 4 on macOS: a buffer of 128 holds either.
        byte[] set = new byte[128];
        if (sigemptyset(set) != 0 || sigaddset(set, SigInt) != 0 || sigaddset(set, SigTerm) != 0 || sigaddset(set, SigCont) != 0)
        {
            return;
        }

        _ = pthread_sigmask(OperatingSystem.IsLinux() ? 0 : 1, set, IntPtr.Zero); // SIG_BLOCK
    }

    [LibraryImport("libc", EntryPoint = "sigemptyset")]
    private static partial int sigemptyset([Out] byte[] set);

    [LibraryImport("libc", EntryPoint = "sigaddset")]
    private static partial int sigaddset([In, Out] byte[] set, int signal);

    [LibraryImport("libc", EntryPoint = "pthread_sigmask")]
    private static partial int pthread_sigmask(int how, byte[] set, IntPtr oldSet);
}
