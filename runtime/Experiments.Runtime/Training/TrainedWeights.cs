using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.PyBridge;

namespace Experiments.Runtime.Training;

/// <summary>
/// A run's final weights as a file other tools open: every parameter and buffer of the model's state dict (its
/// generated field names as keys) in the safetensors format, written and read by TorchSharp.PyBridge.
/// </summary>
public static class TrainedWeights
{
    public const string FileName = "model.safetensors";

    /// <summary>The model's state dict as safetensors bytes; the model must be on the CPU.</summary>
    public static byte[] Save(nn.Module model)
    {
        using var stream = new MemoryStream();
        model.save_safetensors(stream);
        return stream.ToArray();
    }

    /// <summary>SHA-256 over every parameter and buffer of <paramref name="model"/> (name, then bytes) in state-dict order: equal hashes, equal weights.</summary>
    public static string Sha256(nn.Module model)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach ((string name, Tensor tensor) in model.state_dict())
        {
            using Tensor onHost = tensor.detach().cpu().contiguous();
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(name));
            hash.AppendData(onHost.bytes);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Loads <paramref name="path"/> into <paramref name="model"/>; every key must be there, with its shape.</summary>
    public static void Load(nn.Module model, string path)
    {
        try
        {
            model.load_safetensors(path, strict: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or InvalidDataException or KeyNotFoundException or FormatException)
        {
            throw new ArgumentException($"{path}: not the weights of this model ({e.Message}). Train it again with `run` to write them.", e);
        }
    }
}
