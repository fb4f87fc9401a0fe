using Experiments.Runtime.Native;

namespace Experiments.Runtime.Training;

/// <summary>
/// Recurrent layers run on ATen's own kernels, not oneDNN's. LibTorch 2.10 hands a CPU LSTM to oneDNN when oneDNN is
/// enabled; its training workspace is one block of 32-64 MiB per batch, above glibc's largest mmap threshold, so every
/// batch maps fresh pages, and the zero-filled allocator (<see cref="AllocatorFill"/>) touches every one of them. ATen's
/// LSTM (one matrix product per gate block and step, through oneMKL, in buffers the heap reuses) trained
/// mnist-lstm-128-adam at 3633 images/s against oneDNN's 1443, and mnist-lstm-256 at 1699 against 278 (AMD EPYC family
/// 26, 2 threads, `Experiments.Benchmarks speed`). The generated forward wraps each recurrent call in <see cref="Aten"/>:
/// oneDNN is switched off for that call only (the flag is read when the op is dispatched; ATen's backward is ordinary
/// autograd and never consults it), so convolutions elsewhere in the model keep oneDNN.
/// </summary>
public static class RecurrentKernels
{
    /// <summary>Switches oneDNN off until the returned scope is disposed, then restores what was in force.</summary>
    public static Scope Aten() => DeterministicAlgorithms.OneDnnEnabled ? new Scope(DeterministicAlgorithms.TrySetOneDnn(false)) : default;

    /// <summary>The span of one recurrent call; disposing it turns oneDNN back on if <see cref="Aten"/> turned it off.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly bool _restore;

        internal Scope(bool restore) => _restore = restore;

        public void Dispose()
        {
            if (_restore)
            {
                DeterministicAlgorithms.SetOneDnn(true);
            }
        }
    }
}
