using System.Text.Json;
using System.Text.RegularExpressions;
using Experiments.Runtime.Data;
using SkiaSharp;
using Xunit;

namespace Experiments.Runtime.Tests;

/// <summary>
/// The user's own images: the catalog's my-digits folder written by the test from MNIST digits as PNG files, trained,
/// its identity following the decoded pixels; and small synthetic folders for the layout's rules and errors.
/// </summary>
public sealed partial class ImageFolderTests
{
    /// <summary>
    /// A fresh folder with data/my-digits written by this test from the MNIST files (`data images`, the first 100
    /// training and 20 test digits of each class as PNG files), so that the test can change it.
    /// </summary>
    private static string WrittenMyDigits()
    {
        string root = TestEnvironment.TempDirectory("image-folder");
        var write = ProcessDeterminismTests.Cli("data", "images", "mnist", Path.Combine(root, "data", "my-digits"), "--train", "100", "--test", "20");
        Assert.True(write.ExitCode == 0, write.Output);
        Assert.Equal(1200, Directory.GetFiles(Path.Combine(root, "data", "my-digits"), "*.png", SearchOption.AllDirectories).Length);
        return root;
    }

    private static string Identity(string folder)
    {
        var verify = ProcessDeterminismTests.CliIn(folder, "data", "verify", "my-digits");
        Assert.True(verify.ExitCode == 0, verify.Output);
        return Sha256Line().Match(verify.Output).Groups[1].Value;
    }

    private static JsonElement Run(string folder)
    {
        string results = Path.Combine(folder, "results");
        var run = ProcessDeterminismTests.CliIn(folder, "run", "my-digits", "--epochs", "1", "--threads", "1", "--out", results);
        Assert.True(run.ExitCode == 0, run.Output);
        using JsonDocument metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(results, "my-digits", "metrics.json")));
        return metrics.RootElement.Clone();
    }

    [Fact]
    public void A_folder_of_png_digits_trains_and_its_identity_changes_with_one_pixel_of_one_file()
    {
        string folder = WrittenMyDigits();
        string before = Identity(folder);
        Assert.Matches("^[0-9a-f]{64}$", before);

        // The repository's data/my-digits was written the same way: the same pixels, so the same identity.
        Assert.Equal(Identity(TestEnvironment.RepositoryRoot), before);

        JsonElement first = Run(folder);
        JsonElement run = first.GetProperty("identity");
        Assert.Equal(before, run.GetProperty("dataset_sha256").GetString());
        Assert.StartsWith("image-folder:data/my-digits", run.GetProperty("dataset").GetString(), StringComparison.Ordinal);
        Assert.Equal(1000, run.GetProperty("train_examples").GetInt32());
        Assert.Equal(200, run.GetProperty("test_examples").GetInt32());

        // One epoch over 1,000 digits learns: far above the 10% of guessing.
        Assert.True(first.GetProperty("test").GetProperty("accuracy").GetDouble() > 0.5, first.ToString());

        // Re-encoding a file (another PNG compression) keeps the pixels: the same dataset.
        string file = Path.Combine(folder, "data", "my-digits", "train", "7", Directory.GetFiles(Path.Combine(folder, "data", "my-digits", "train", "7")).Select(Path.GetFileName).Order(StringComparer.Ordinal).First()!);
        byte[] pixels = ImageFiles.ReadGray(file, 28, 28);
        using (SKBitmap bitmap = SKBitmap.Decode(file))
        {
            using SKData data = bitmap.Encode(SKEncodedImageFormat.Png, 0);
            Assert.NotEqual(File.ReadAllBytes(file), data.ToArray());
            File.WriteAllBytes(file, data.ToArray());
        }

        Assert.Equal(before, Identity(folder));

        // One pixel of that file one level brighter: another dataset, another identity, another run.
        pixels[14 * 28 + 14] = (byte)(pixels[14 * 28 + 14] == 255 ? 254 : pixels[14 * 28 + 14] + 1);
        ImageFiles.WriteGray(file, pixels, 28, 28);
        string after = Identity(folder);
        Assert.NotEqual(before, after);
        JsonElement second = Run(folder);
        Assert.Equal(after, second.GetProperty("identity").GetProperty("dataset_sha256").GetString());
    }

    [Fact]
    public void Classes_follow_the_ordinal_order_of_the_folder_names_and_colour_keeps_its_planes()
    {
        string root = TestEnvironment.TempDirectory("folder-rgb");
        var red = new SKColor(200, 10, 20);
        var blue = new SKColor(5, 30, 250);
        WriteImage(Path.Combine(root, "train", "b-blue", "1.png"), 4, 3, blue);
        WriteImage(Path.Combine(root, "train", "b-blue", "2.png"), 4, 3, blue);
        WriteImage(Path.Combine(root, "train", "a-red", "1.png"), 4, 3, red);
        WriteImage(Path.Combine(root, "test", "a-red", "1.png"), 4, 3, red);
        File.WriteAllText(Path.Combine(root, "train", "a-red", "notes.txt"), "not an image: ignored");

        ImageDataset data = ImageFolder.Load(new ImageFolderSource(root, 3, 4, 3, 0.2, false, 2));
        Assert.Equal(["a-red", "b-blue"], data.ClassNames);
        Assert.Equal([0, 1, 1], data.Train.Labels);
        Assert.Equal((3, 4, 3, 36), (data.Train.Rows, data.Train.Cols, data.Train.Channels, data.Train.PixelsPerImage));

        // Channel planes one after another: twelve red values, twelve green, twelve blue.
        Assert.Equal(Enumerable.Repeat(red.Red, 12).Concat(Enumerable.Repeat(red.Green, 12)).Concat(Enumerable.Repeat(red.Blue, 12)), data.Train.Images.Take(36));
        Assert.Equal(data.ContentSha256, ImageDataset.ContentHash(data.ClassNames, data.Train, data.Test));

        // Grey: the BT.601 luma of each colour.
        ImageDataset grey = ImageFolder.Load(new ImageFolderSource(root, 3, 4, 1, 0.2, false, 2));
        Assert.Equal((byte)(((299 * 200) + (587 * 10) + (114 * 20) + 500) / 1000), grey.Train.Images[0]);
        Assert.NotEqual(data.ContentSha256, grey.ContentSha256);
    }

    [Fact]
    public void Another_size_is_an_error_naming_the_file_unless_resize_is_declared()
    {
        string root = TestEnvironment.TempDirectory("folder-size");
        WriteImage(Path.Combine(root, "train", "x", "a.png"), 8, 8, SKColors.White);
        WriteImage(Path.Combine(root, "train", "y", "big.png"), 16, 12, SKColors.Black);
        WriteImage(Path.Combine(root, "test", "x", "b.png"), 8, 8, SKColors.White);

        DatasetException error = Assert.Throws<DatasetException>(() => ImageFolder.Load(new ImageFolderSource(root, 8, 8, 1, 0.5, false, 2)));
        Assert.Contains(Path.Combine(root, "train", "y", "big.png") + " is 16x12 pixels; the model takes 8x8 images", error.Message, StringComparison.Ordinal);
        Assert.Contains("Resize = true", error.Message, StringComparison.Ordinal);

        ImageDataset resized = ImageFolder.Load(new ImageFolderSource(root, 8, 8, 1, 0.5, true, 2));
        Assert.Equal(64, resized.Train.PixelsPerImage);
        Assert.All(resized.Train.Images.Skip(64), pixel => Assert.Equal(0, pixel)); // the black 16x12 image, now 8x8
        Assert.Contains("resized", resized.Key, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_test_folder_a_stratified_share_is_held_out_the_same_way_every_time()
    {
        string root = TestEnvironment.TempDirectory("folder-split");
        for (int i = 0; i < 10; i++)
        {
            WriteImage(Path.Combine(root, "train", "dark", $"{i}.png"), 2, 2, new SKColor((byte)i, (byte)i, (byte)i));
            WriteImage(Path.Combine(root, "train", "light", $"{i}.png"), 2, 2, new SKColor((byte)(200 + i), (byte)(200 + i), (byte)(200 + i)));
        }

        var source = new ImageFolderSource(root, 2, 2, 1, 0.2, false, 2);
        ImageDataset data = ImageFolder.Load(source);
        Assert.Equal((16, 4), (data.Train.Count, data.Test.Count));
        Assert.Equal(2, data.Test.Labels.Count(l => l == 0));
        Assert.Contains("test 0.2 held out", data.Key, StringComparison.Ordinal);

        // A fresh read (another file time, so not the process's cached copy) draws the same split.
        File.SetLastWriteTimeUtc(Path.Combine(root, "train", "dark", "0.png"), DateTime.UtcNow.AddMinutes(-5));
        ImageDataset again = ImageFolder.Load(source);
        Assert.NotSame(data, again);
        Assert.Equal(data.Test.Images, again.Test.Images);
        Assert.Equal(data.ContentSha256, again.ContentSha256);
    }

    public static TheoryData<string, string, string> BadFolders => new()
    {
        { "empty-class", "train/empty holds no images", "add some or remove the folder" },
        { "unreadable", "train/b/broken.png cannot be read as an image", "PNG, JPEG" },
        { "unknown-test-class", "test/c is a class that", "every test class needs training images" },
        { "class-count", "The model gives 3 outputs but", "end the model with Dense(2, Activation.Softmax)" },
        { "no-train", "has no train folder", "train/<class>" },
        { "one-class", "has 1 class folder", "at least two" },
    };

    [Theory]
    [MemberData(nameof(BadFolders))]
    public void A_bad_folder_is_an_error_that_names_the_place_and_the_fix(string kind, string names, string fix)
    {
        string root = TestEnvironment.TempDirectory("folder-bad");
        int classes = 2;
        if (kind != "no-train")
        {
            WriteImage(Path.Combine(root, "train", "a", "1.png"), 2, 2, SKColors.White);
        }

        if (kind is not ("no-train" or "one-class"))
        {
            WriteImage(Path.Combine(root, "train", "b", "1.png"), 2, 2, SKColors.Black);
        }

        switch (kind)
        {
            case "empty-class":
                Directory.CreateDirectory(Path.Combine(root, "train", "empty"));
                classes = 3;
                break;
            case "unreadable":
                File.WriteAllText(Path.Combine(root, "train", "b", "broken.png"), "not a PNG");
                break;
            case "unknown-test-class":
                WriteImage(Path.Combine(root, "test", "c", "1.png"), 2, 2, SKColors.Gray);
                break;
            case "class-count":
                classes = 3;
                break;
        }

        DatasetException error = Assert.Throws<DatasetException>(() => ImageFolder.Load(new ImageFolderSource(root, 2, 2, 1, 0.5, false, classes)));
        Assert.Contains(names.Replace('/', Path.DirectorySeparatorChar), error.Message.Replace(root + Path.DirectorySeparatorChar, "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains(fix, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_relative_path_is_found_from_the_current_folder_or_one_above_it_and_a_missing_one_says_where_it_looked()
    {
        string root = TestEnvironment.TempDirectory("folder-resolve");
        string deep = Directory.CreateDirectory(Path.Combine(root, "bin", "Debug")).FullName;
        Directory.CreateDirectory(Path.Combine(root, "data", "pets"));
        Assert.Equal(Path.Combine(root, "data", "pets"), new ImageFolderSource("data/pets", 2, 2, 1, 0.2, false, 2).Resolve(deep));

        DatasetException missing = Assert.Throws<DatasetException>(() => new ImageFolderSource("data/cats", 2, 2, 1, 0.2, false, 2).Resolve(deep));
        Assert.Contains($"The data folder 'data/cats' was found neither in {deep} nor in a directory above it", missing.Message, StringComparison.Ordinal);
    }

    private static void WriteImage(string path, int width, int height, SKColor colour)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        bitmap.Erase(colour);
        using SKData data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    [GeneratedRegex("sha256 ([0-9a-f]{64})")]
    private static partial Regex Sha256Line();
}
