using System.Globalization;
using System.Security.Cryptography;
using static TorchSharp.torch;

namespace Experiments.Runtime.Training;

/// <summary>
/// A diagnostic for finding where two machines' runs part: with EXPERIMENTS_TRACE=FILE, every optimizer step appends
/// one line to FILE (epoch, batch, the loss's float32 bits, and SHA-256 prefixes of the gradients and of the updated
/// weights). Two traces of one experiment diff to the first batch whose bits differ, and whether its forward and
/// backward pass (the gradients) or only the update (the weights) did. It reads values only, so the run's bits are the
/// same with or without it; it copies the parameters to the host after every step, so it is slow.
/// </summary>
internal sealed class BatchTrace : IDisposable
{
    public const string Variable = "EXPERIMENTS_TRACE";

    private readonly StreamWriter _writer;

    private BatchTrace(string path)
    {
        _writer = new StreamWriter(path, append: true) { AutoFlush = true };
        _writer.WriteLine("# epoch batch loss_bits gradients_sha256 weights_sha256");
    }

    public static BatchTrace? FromEnvironment() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path ? new BatchTrace(path) : null;

    public void Step(int epoch, int batch, Tensor loss, IReadOnlyList<TorchSharp.Modules.Parameter> parameters)
    {
        float value = loss.item<float>();
        string gradients = Hash(parameters.Select(p => p.grad));
        string weights = Hash(parameters);
        _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{epoch + 1} {batch + 1} {BitConverter.SingleToInt32Bits(value):x8} {gradients} {weights}"));
    }

    private static string Hash(IEnumerable<Tensor?> tensors)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (Tensor? tensor in tensors)
        {
            if (tensor is not null)
            {
                using Tensor onHost = tensor.detach().cpu().contiguous();
                hash.AppendData(onHost.bytes);
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    public void Dispose() => _writer.Dispose();
}
