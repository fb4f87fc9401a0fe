using System.Runtime.InteropServices;

namespace Experiments.Runtime.Hosting;

/// <summary>Another run holds the output folder.</summary>
public sealed class OutputLockedException(string message) : Exception(message);

/// <summary>
/// One run at a time per output folder: an exclusive lock on OUT/.lock (an OS file lock, released by the kernel if the
/// process dies, so a killed run never leaves a stale lock behind).
/// </summary>
public sealed class OutputLock : IDisposable
{
    private readonly FileStream _file;

    private OutputLock(FileStream file) => _file = file;

    public static OutputLock Acquire(string outputRoot)
    {
        string path = Path.Combine(outputRoot, ".lock");
        try
        {
            Directory.CreateDirectory(outputRoot);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OutputLockedException($"Cannot create the output folder {Path.GetFullPath(outputRoot)}: {e.Message}. Choose another folder with --out.");
        }

        try
        {
            return new OutputLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new OutputLockedException(
                $"Another run is writing to {Path.GetFullPath(outputRoot)} (it holds {path}). Wait for it to finish, or give this run its own folder with --out.");
        }
        catch (UnauthorizedAccessException)
        {
            throw new OutputLockedException($"{Path.GetFullPath(outputRoot)} is not writable; choose another folder with --out.");
        }
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>Ctrl-C and SIGTERM request a stop at the next batch boundary instead of killing the process.</summary>
internal sealed class StopSignals : IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations = [];

    public static StopSignals Register(CancellationTokenSource stop)
    {
        var signals = new StopSignals();
        foreach (PosixSignal signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            signals._registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                if (!stop.IsCancellationRequested)
                {
                    context.Cancel = true;
                    // Said as what will happen: the run reports the checkpoint once it is written ("saved ...: continue with run --resume").
                    Console.Error.WriteLine("stop requested: the run stops at the next batch boundary and then saves a checkpoint (press Ctrl-C again to abort)");
                    stop.Cancel();
                }
            }));
        }

        // The handlers run on the runtime's signal thread; the thread that registered them goes on to train, and a
        // signal interrupting it inside oneDNN could corrupt the heap (see SignalMask).
        Native.SignalMask.BlockOnThisThread();
        return signals;
    }

    public void Dispose() => _registrations.ForEach(r => r.Dispose());
}
