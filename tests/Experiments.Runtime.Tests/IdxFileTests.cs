using System.IO.Compression;
using Experiments.Runtime.Data;
using Xunit;

namespace Experiments.Runtime.Tests;

public sealed class IdxFileTests
{
    private static byte[] Idx(byte rank, int[] dimensions, int payload)
    {
        var bytes = new List<byte> { 0, 0, 0x08, rank };
        foreach (int d in dimensions)
        {
            bytes.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        }

        bytes.AddRange(Enumerable.Range(0, payload).Select(i => (byte)(i % 251)));
        return bytes.ToArray();
    }

    [Fact]
    public void Reads_the_real_mnist_files_with_their_documented_shapes()
    {
        IdxArray images = IdxFile.Read(TestEnvironment.Mnist[0], expectedRank: 3);
        IdxArray labels = IdxFile.Read(TestEnvironment.Mnist[1], expectedRank: 1);
        Assert.Equal([60000, 28, 28], images.Dimensions);
        Assert.Equal(60000, labels.Count);
        Assert.Equal(5, labels.Values[0]); // The first MNIST training digit is a 5.
        Assert.All(labels.Values, l => Assert.InRange(l, 0, 9));
    }

    [Fact]
    public void Reads_gzip_and_raw_copies_identically()
    {
        string dir = TestEnvironment.TempDirectory("idx");
        byte[] raw = Idx(3, [2, 3, 4], 24);
        File.WriteAllBytes(Path.Combine(dir, "a"), raw);
        using (var gz = new GZipStream(File.Create(Path.Combine(dir, "a.gz")), CompressionLevel.Fastest))
        {
            gz.Write(raw);
        }

        IdxArray fromRaw = IdxFile.Read(Path.Combine(dir, "a"), 3);
        IdxArray fromGzip = IdxFile.Read(Path.Combine(dir, "a.gz"), 3);
        Assert.Equal(fromRaw.Values, fromGzip.Values);
        Assert.Equal([2, 3, 4], fromGzip.Dimensions);
    }

    [Fact]
    public void Truncated_data_names_the_file_and_both_lengths()
    {
        byte[] bytes = Idx(3, [2, 3, 4], 20);
        var e = Assert.Throws<DatasetException>(() => IdxFile.Parse("/data/x-images", bytes, 3));
        Assert.Contains("/data/x-images", e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        Assert.Contains("24 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("has 20", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extra_bytes_are_an_error()
    {
        var e = Assert.Throws<DatasetException>(() => IdxFile.Parse("f", Idx(1, [3], 4), 1));
        Assert.Contains("longer than its header says", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_magic_number_is_rejected()
    {
        byte[] bytes = Idx(3, [1, 1, 1], 1);
        bytes[0] = 0x50;
        var e = Assert.Throws<DatasetException>(() => IdxFile.Parse("f", bytes, 3));
        Assert.Contains("bad IDX magic number", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Swapped_images_and_labels_are_reported_as_such()
    {
        var e = Assert.Throws<DatasetException>(() => IdxFile.Parse("labels-file", Idx(1, [5], 5), 3));
        Assert.Contains("rank 1", e.Message, StringComparison.Ordinal);
        Assert.Contains("swapped", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Non_byte_element_type_is_rejected()
    {
        byte[] bytes = Idx(1, [1], 1);
        bytes[2] = 0x0D;
        var e = Assert.Throws<DatasetException>(() => IdxFile.Parse("f", bytes, 1));
        Assert.Contains("element type 0x0d", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupt_gzip_names_the_file()
    {
        string dir = TestEnvironment.TempDirectory("gz");
        string path = Path.Combine(dir, "t10k-labels-idx1-ubyte.gz");
        byte[] good = File.ReadAllBytes(TestEnvironment.Mnist[3]);
        using (var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest))
        {
            gz.Write(good);
        }

        byte[] compressed = File.ReadAllBytes(path);
        File.WriteAllBytes(path, compressed.AsSpan(0, compressed.Length / 2).ToArray());
        var e = Assert.Throws<DatasetException>(() => IdxFile.Read(path, 1));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }
}
