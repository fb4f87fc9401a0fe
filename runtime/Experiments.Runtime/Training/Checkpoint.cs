using System.Text;
using System.Text.Json;
using Experiments.Runtime.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Runtime.Training;

/// <summary>Where a run stands: the epoch in progress and how far into it (0 batches at an epoch boundary).</summary>
/// <param name="Key">Everything that must match for a resume to continue the same run bit for bit.</param>
/// <param name="Epoch">0-based epoch in progress.</param>
/// <param name="NextBatch">First batch of <see cref="Epoch"/> still to train.</param>
/// <param name="LossSum">Running sum of batch losses times batch sizes in the epoch so far.</param>
/// <param name="Correct">Running count of correct training predictions in the epoch so far.</param>
/// <param name="Controls">The plateau's and early stopping's state after the last completed epoch; null when the run declares neither.</param>
public sealed record CheckpointState(string Key, int Epoch, int NextBatch, double LossSum, long Correct, long Iterations, IReadOnlyList<EpochMetrics> History, bool Interrupted, ControlsState? Controls = null);

/// <summary>A resume found a checkpoint of another run; the message says which field differs and what to do.</summary>
public sealed class CheckpointMismatchException(string message) : Exception(message);

/// <summary>The run stopped on request (Ctrl-C) after saving a checkpoint; `run --resume` continues it.</summary>
public sealed class RunInterruptedException(string message) : Exception(message);

/// <summary>
/// One file per run: model state (parameters and BatchNorm statistics), optimizer state, torch's generator state,
/// position in the epoch, the history so far, and the training controls' state with the best weights kept so far. Written to a temporary file and renamed over the previous one, so a
/// kill at any moment leaves the previous complete checkpoint. The framework's own shuffles and splits need no state:
/// they are derived from the seed and the epoch number.
/// </summary>
public static class Checkpoint
{
    private const string Magic = "EXPERIMENTS-CHECKPOINT";
    private const int Version = 1;

    public static void Save(string path, CheckpointState state, nn.Module model, KerasOptimizer optimizer, TrainingControls? controls = null)
    {
        AtomicFile.Write(path, file =>
        {
            using var writer = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true);
            writer.Write(Magic);
            writer.Write(Version);
            writer.Write(JsonSerializer.Serialize(state));
            model.save(writer);
            writer.Write(optimizer.State.Count);
            foreach (Tensor tensor in optimizer.State)
            {
                tensor.Save(writer);
            }

            using Tensor rng = torch.get_rng_state();
            rng.Save(writer);
            controls?.Save(writer);
            writer.Flush();
        });
    }

    /// <summary>Reads only the state (to check it) without touching model or optimizer.</summary>
    public static CheckpointState ReadState(string path)
    {
        using var file = File.OpenRead(path);
        using var reader = new BinaryReader(file, Encoding.UTF8);
        return ReadHeader(reader, path);
    }

    /// <summary>Loads a checkpoint into the model and optimizer and sets torch's generator; refuses one of another run.</summary>
    public static CheckpointState Load(string path, string expectedKey, nn.Module model, KerasOptimizer optimizer, TrainingControls? controls = null)
    {
        using var file = File.OpenRead(path);
        using var reader = new BinaryReader(file, Encoding.UTF8);
        CheckpointState state = ReadHeader(reader, path);
        if (state.Key != expectedKey)
        {
            throw new CheckpointMismatchException(
                $"{path} belongs to a different run ({Difference(state.Key, expectedKey)}): the declaration, configuration or library " +
                "version changed since it was written. Run without --resume to start again (the checkpoint is then replaced).");
        }

        model.load(reader);
        int count = reader.ReadInt32();
        if (count != optimizer.State.Count)
        {
            throw new CheckpointMismatchException($"{path}: {count} optimizer tensors, the optimizer has {optimizer.State.Count}.");
        }

        foreach (Tensor tensor in optimizer.State)
        {
            tensor.Load(reader);
        }

        optimizer.RestoreIterations(state.Iterations);
        using Tensor rng = TensorExtensionMethods.Load(reader);
        torch.set_rng_state(rng);
        if (state.Controls is { } controlsState)
        {
            (controls ?? throw new CheckpointMismatchException($"{path} holds training controls this run does not declare.")).Load(controlsState, reader, model);
        }

        return state;
    }

    private static CheckpointState ReadHeader(BinaryReader reader, string path)
    {
        try
        {
            if (reader.ReadString() != Magic || reader.ReadInt32() != Version)
            {
                throw new CheckpointMismatchException($"{path} is not a checkpoint of this version of Experiments; delete it and run again.");
            }

            return JsonSerializer.Deserialize<CheckpointState>(reader.ReadString())
                ?? throw new CheckpointMismatchException($"{path}: empty checkpoint state.");
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or IOException)
        {
            throw new CheckpointMismatchException($"{path} is damaged ({e.Message}); delete it and run again.");
        }
    }

    private static string Difference(string stored, string expected)
    {
        string[] a = stored.Split('\n');
        string[] b = expected.Split('\n');
        int i = Enumerable.Range(0, Math.Min(a.Length, b.Length)).FirstOrDefault(k => a[k] != b[k], -1);
        return i < 0 ? "different fields" : $"checkpoint has '{a[i]}', this run '{b[i]}'";
    }
}
