using Experiments.Layers;

namespace Experiments.Catalog;

// Not a seed: the user's own table. data/digits-8x8.csv holds 1,500 MNIST training digits (the first 150 of each
// class) reduced to 8x8 blocks with values 0-16, as scikit-learn's digits are, one row each: 64 feature columns
// p0..p63 and the label column "digit" spelled as words (classes in ordinal order: eight, five, four, ...).
// The README's "Your own data" describes it; a fifth of each class is held out as the test set.

[Experiment("my-table", Dataset.Csv, Input.Flat, DataPath = "data/digits-8x8.csv", Features = 64, LabelColumn = "digit",
    Optimizer = Optimizer.Adam, BatchSize = 32, Epochs = 20, Validation = Validation.TestSet, Seed = 1,
    Description = "Your own table: an MLP on data/digits-8x8.csv (64 numeric columns and a label column)")]
public sealed partial class MyTable
{
    private static readonly Layer[] Layers = [new Dense(32, Activation.Relu), new Dense(10, Activation.Softmax)];
}
