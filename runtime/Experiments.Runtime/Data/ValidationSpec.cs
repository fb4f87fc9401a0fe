namespace Experiments.Runtime.Data;

/// <summary>How validation data is chosen (Keras' validation_data / validation_split, or a seeded split).</summary>
public abstract record ValidationSpec
{
    /// <summary>No validation during training.</summary>
    public static ValidationSpec None { get; } = new NoValidation();

    /// <summary>The test set is the validation data (Keras validation_data=(x_test, y_test); seeds 000, 003, 004).</summary>
    public static ValidationSpec TestSet { get; } = new TestSetValidation();

    /// <summary>Keras validation_split: the last <paramref name="fraction"/> of the training data, unshuffled.</summary>
    public static ValidationSpec KerasTail(double fraction) => new KerasTailValidation(Check(fraction));

    /// <summary>A seeded random fraction, optionally stratified by class.</summary>
    public static ValidationSpec Seeded(double fraction, bool stratified = true) => new SeededValidation(Check(fraction), stratified);

    private static double Check(double fraction) =>
        fraction is > 0 and < 1 ? fraction : throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "A validation fraction must lie strictly between 0 and 1, e.g. 0.2.");
}

public sealed record NoValidation : ValidationSpec
{
    public override string ToString() => "none";
}

public sealed record TestSetValidation : ValidationSpec
{
    public override string ToString() => "test-set";
}

public sealed record KerasTailValidation(double Fraction) : ValidationSpec
{
    public override string ToString() => $"keras-tail({Fraction.ToString(System.Globalization.CultureInfo.InvariantCulture)})";
}

public sealed record SeededValidation(double Fraction, bool Stratified) : ValidationSpec
{
    public override string ToString() =>
        $"seeded({Fraction.ToString(System.Globalization.CultureInfo.InvariantCulture)}{(Stratified ? ", stratified" : "")})";
}
