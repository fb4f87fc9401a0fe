using System.Globalization;
using static TorchSharp.torch;

namespace Experiments.Runtime.Training;

/// <summary>
/// Keras' kernel_regularizer L1L2(l1, l2) of one layer: <c>l1 * sum|W| + l2 * sum W^2</c> over the named parameter,
/// added to the loss that is minimised and reported, in training and in evaluation (Keras' fit and evaluate both add
/// the model's regularization losses).
/// </summary>
/// <param name="Parameter">The module parameter, as the generated model names it: <c>dense.weight</c>.</param>
public sealed record KernelPenalty(string Parameter, double L1, double L2)
{
    public double L1 { get; } = L1 >= 0 && double.IsFinite(L1) ? L1 : throw new ArgumentOutOfRangeException(nameof(L1), L1, "A regularization factor is 0 or more.");

    public double L2 { get; } = L2 >= 0 && double.IsFinite(L2) ? L2 : throw new ArgumentOutOfRangeException(nameof(L2), L2, "A regularization factor is 0 or more.");

    /// <summary>The penalties' sum on <paramref name="model"/>'s current weights (a scalar on their device, float32); null when there are none.</summary>
    public static Tensor? Total(IReadOnlyList<KernelPenalty> penalties, nn.Module model) => Total(Resolve(penalties, model));

    /// <summary>Each penalty with the model parameter it reads, looked up once (a run resolves them before its batches).</summary>
    public static IReadOnlyList<(KernelPenalty Penalty, Tensor Weight)> Resolve(IReadOnlyList<KernelPenalty> penalties, nn.Module model)
    {
        if (penalties.Count == 0)
        {
            return [];
        }

        Dictionary<string, TorchSharp.Modules.Parameter> parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        return penalties.Select(penalty => (penalty, (Tensor)(parameters.TryGetValue(penalty.Parameter, out TorchSharp.Modules.Parameter? found) ? found
            : throw new InvalidOperationException($"The model has no parameter '{penalty.Parameter}' to regularize (it has {string.Join(", ", parameters.Keys)})."))))
            .ToList();
    }

    /// <summary>The sum of resolved penalties on the weights' current values; null when there are none.</summary>
    public static Tensor? Total(IReadOnlyList<(KernelPenalty Penalty, Tensor Weight)> resolved)
    {
        Tensor? total = null;
        foreach ((KernelPenalty penalty, Tensor weight) in resolved)
        {
            Tensor term = penalty.Term(weight);
            total = total is null ? term : total.add_(term);
        }

        return total;
    }

    private Tensor Term(Tensor weight)
    {
        Tensor? l1 = L1 > 0 ? weight.abs().sum().mul_(L1) : null;
        Tensor? l2 = L2 > 0 ? weight.square().sum().mul_(L2) : null;
        return (l1, l2) switch
        {
            ({ } a, { } b) => a.add_(b),
            ({ } a, null) => a,
            (null, { } b) => b,
            _ => weight.new_zeros([]),
        };
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Parameter} L1L2({L1:R}, {L2:R})");
}
