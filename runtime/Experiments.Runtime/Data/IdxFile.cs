using System.Buffers.Binary;
using System.IO.Compression;

namespace Experiments.Runtime.Data;

/// <summary>An unsigned-byte IDX array (the MNIST file format): its dimensions and its values.</summary>
public sealed record IdxArray(IReadOnlyList<int> Dimensions, byte[] Values)
{
    public int Count => Dimensions[0];

    public int ItemSize => Dimensions.Skip(1).Aggregate(1, (a, b) => a * b);
}

/// <summary>Reads IDX files (raw or gzip) with every header field checked against the file's length.</summary>
public static class IdxFile
{
    private const byte UnsignedByte = 0x08;

    public static IdxArray Read(string path, int expectedRank)
    {
        byte[] bytes;
        try
        {
            bytes = ReadMaybeGzip(path);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetException($"{path}: the gzip stream is corrupt or truncated ({e.Message}). Delete the file and provision it again.", e);
        }

        return Parse(path, bytes, expectedRank);
    }

    /// <summary>The file's bytes, decompressed when it starts with the gzip magic number.</summary>
    public static byte[] ReadMaybeGzip(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        return IsGzip(bytes) ? Gunzip(bytes) : bytes;
    }

    public static bool IsGzip(ReadOnlySpan<byte> bytes) => bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;

    public static byte[] Gunzip(byte[] compressed)
    {
        using var input = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    public static IdxArray Parse(string path, byte[] bytes, int expectedRank)
    {
        if (bytes.Length < 4)
        {
            throw new DatasetException($"{path}: {bytes.Length} bytes is too short for an IDX header. The file is truncated; delete it and provision it again.");
        }

        if (bytes[0] != 0 || bytes[1] != 0)
        {
            throw new DatasetException($"{path}: bad IDX magic number 0x{bytes[0]:x2}{bytes[1]:x2}{bytes[2]:x2}{bytes[3]:x2} (expected 0x0000{UnsignedByte:x2}0{expectedRank}). This is not an IDX file.");
        }

        if (bytes[2] != UnsignedByte)
        {
            throw new DatasetException($"{path}: IDX element type 0x{bytes[2]:x2} is not unsigned byte (0x08); only MNIST-style byte files are supported.");
        }

        int rank = bytes[3];
        if (rank != expectedRank)
        {
            string kind = expectedRank == 1 ? "a label file (rank 1)" : $"an image file (rank {expectedRank})";
            throw new DatasetException($"{path}: IDX rank {rank} where {kind} was expected. Images and labels files are swapped or mislabelled.");
        }

        int header = 4 + (4 * rank);
        if (bytes.Length < header)
        {
            throw new DatasetException($"{path}: truncated IDX header ({bytes.Length} bytes, header needs {header}).");
        }

        var dimensions = new int[rank];
        long expected = 1;
        for (int i = 0; i < rank; i++)
        {
            uint dimension = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(4 + (4 * i)));
            if (dimension == 0 || dimension > int.MaxValue)
            {
                throw new DatasetException($"{path}: IDX dimension {i} is {dimension}; the header is corrupt.");
            }

            dimensions[i] = (int)dimension;
            expected *= dimension;
        }

        long actual = bytes.Length - header;
        if (actual != expected)
        {
            string what = actual < expected ? "truncated" : "longer than its header says";
            throw new DatasetException(
                $"{path}: IDX data is {what}: header {string.Join("x", dimensions)} needs {expected} bytes, the file has {actual}. Delete it and provision it again.");
        }

        return new IdxArray(dimensions, bytes.AsSpan(header).ToArray());
    }
}
