using Experiments.Runtime.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Runtime.Training;

/// <summary>A whole image set resident on the training device: batches are gathered there, never copied per batch.</summary>
internal sealed class DeviceData : IDisposable
{
    public DeviceData(ImageSet set, IReadOnlyList<int> inputShape, float scale, Device device)
    {
        Count = set.Count;
        Labels = set.Labels;
        long[] shape = [set.Count, .. inputShape.Select(d => (long)d)];
        long perExample = inputShape.Aggregate(1L, (a, b) => a * b);
        if (perExample != set.PixelsPerImage)
        {
            throw new ArgumentException(
                $"Input shape [{string.Join(", ", inputShape)}] holds {perExample} values but the dataset's images have {set.PixelsPerImage} ({set.Rows}x{set.Cols}x{set.Channels}).",
                nameof(inputShape));
        }

        using var scope = torch.NewDisposeScope();
        Inputs = set.Values is { } values
            ? torch.tensor(values, torch.float32).to(device).mul_(scale).reshape(shape).MoveToOuterDisposeScope()
            : torch.tensor(set.Images, torch.uint8).to(device).to(torch.float32).mul_(scale).reshape(shape).MoveToOuterDisposeScope();
        Targets = torch.tensor(set.Labels, torch.uint8).to(device).to(torch.int64).MoveToOuterDisposeScope();
    }

    public int Count { get; }

    public byte[] Labels { get; }

    public Tensor Inputs { get; }

    public Tensor Targets { get; }

    public void Dispose()
    {
        Inputs.Dispose();
        Targets.Dispose();
    }
}
