using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Runtime.Training;

/// <summary>How an optimizer holds the parameters it updates.</summary>
public enum ParameterLayoutKind
{
    /// <summary>
    /// Every parameter is a view into one flat buffer and every gradient a view into another, so that an update step,
    /// and zeroing the gradients, is a handful of kernels whatever the number of parameter tensors.
    /// </summary>
    Flat,

    /// <summary>Each parameter updated on its own: several kernels per tensor per step (the reference for <see cref="Flat"/>).</summary>
    PerParameter,
}

/// <summary>
/// The trainable parameters grouped into segments that an optimizer updates with one set of kernels each. In the flat
/// layout the trainable parameters share one segment: their storage is moved into a buffer (Tensor.set_, what
/// PyTorch's RNN flatten_parameters does) and their gradients are pre-assigned views of a second buffer, into which
/// autograd accumulates in place. Parameters of recurrent modules on CUDA keep their own storage: cuDNN uses an RNN's
/// weights without a copy only when they are laid out in cuDNN's own buffer, which LibTorch builds when it moves the
/// module to the GPU.
/// </summary>
/// <remarks>
/// Own code: neither TorchSharp nor LibTorch's C++ optimizers offer flat (or foreach/fused) parameter storage.
/// </remarks>
public sealed class ParameterLayout : IDisposable
{
    /// <summary>Parameters compared by identity (Tensor.Equals compares values).</summary>
    public static readonly IEqualityComparer<TorchSharp.Modules.Parameter> ReferenceComparer = ReferenceEqualityComparer.Instance;

    private readonly List<Tensor> _owned = [];

    private ParameterLayout(ParameterLayoutKind kind, IReadOnlyList<TorchSharp.Modules.Parameter> parameters)
    {
        Kind = kind;
        Parameters = parameters;
    }

    public ParameterLayoutKind Kind { get; }

    /// <summary>The trainable parameters, in the model's order (frozen ones are not the optimizer's business).</summary>
    public IReadOnlyList<TorchSharp.Modules.Parameter> Parameters { get; }

    public IReadOnlyList<Segment> Segments { get; private set; } = [];

    /// <summary>One tensor the optimizer updates at once: a flat buffer of several parameters, or one parameter.</summary>
    public sealed class Segment
    {
        private readonly TorchSharp.Modules.Parameter? _single;
        private readonly Tensor? _gradients;

        internal Segment(Tensor values, Tensor gradients, IReadOnlyList<(TorchSharp.Modules.Parameter Parameter, long Offset)> members)
        {
            Values = values;
            _gradients = gradients;
            Members = members;
        }

        internal Segment(TorchSharp.Modules.Parameter parameter)
        {
            _single = parameter;
            Values = parameter;
            Members = [(parameter, 0)];
        }

        public Tensor Values { get; }

        /// <summary>The parameters whose storage this segment holds, each with its offset in elements.</summary>
        public IReadOnlyList<(TorchSharp.Modules.Parameter Parameter, long Offset)> Members { get; }

        /// <summary>The segment's gradient, or null while autograd has not produced one (a lone parameter before its first backward pass).</summary>
        /// <remarks>A lone parameter's gradient is a new wrapper each call: call inside a dispose scope.</remarks>
        public Tensor? Gradients() => _single is null ? _gradients : _single.grad;
    }

    public static ParameterLayout Create(ParameterLayoutKind kind, IEnumerable<TorchSharp.Modules.Parameter> parameters, IEnumerable<TorchSharp.Modules.Parameter>? keepSeparate = null)
    {
        var layout = new ParameterLayout(kind, parameters.Where(p => p.requires_grad).ToList());
        var separate = new HashSet<TorchSharp.Modules.Parameter>(keepSeparate ?? [], ReferenceComparer);
        var flat = kind == ParameterLayoutKind.Flat ? layout.Parameters.Where(p => !separate.Contains(p)).ToList() : [];
        if (flat.Count > 0 && flat.Any(p => p.dtype != flat[0].dtype || p.device_type != flat[0].device_type || p.device_index != flat[0].device_index))
        {
            throw new ArgumentException(
                $"A flat parameter layout needs one dtype and device for all parameters; this model mixes {string.Join(", ", flat.Select(p => $"{p.dtype}@{p.device}").Distinct())}.",
                nameof(parameters));
        }

        // A flat segment of one parameter would only add a copy. Membership by reference: Tensor.Equals compares values,
        // so two zero-initialised biases of one size would be "equal".
        var segments = new List<Segment>();
        var flattened = new HashSet<TorchSharp.Modules.Parameter>(ReferenceComparer);
        if (flat.Count > 1)
        {
            segments.Add(layout.Flatten(flat));
            flattened.UnionWith(flat);
        }

        segments.AddRange(layout.Parameters.Where(p => !flattened.Contains(p)).Select(p => new Segment(p)));
        layout.Segments = segments;
        return layout;
    }

    /// <summary>Per-parameter views of a segment-shaped tensor (an optimizer slot), in <see cref="Parameters"/> order: what a checkpoint stores.</summary>
    public IReadOnlyList<Tensor> PerParameterViews(IReadOnlyList<Tensor> segmentTensors)
    {
        var byParameter = new Dictionary<TorchSharp.Modules.Parameter, Tensor>(ReferenceComparer);
        for (int s = 0; s < Segments.Count; s++)
        {
            Segment segment = Segments[s];
            foreach ((TorchSharp.Modules.Parameter parameter, long offset) in segment.Members)
            {
                byParameter[parameter] = segment.Members.Count == 1
                    ? segmentTensors[s]
                    : Own(segmentTensors[s].narrow(0, offset, parameter.numel()).view(parameter.shape));
            }
        }

        return Parameters.Select(p => byParameter[p]).ToList();
    }

    public void ZeroGradients()
    {
        using var scope = torch.NewDisposeScope();
        foreach (Segment segment in Segments)
        {
            segment.Gradients()?.zero_();
        }
    }

    private Segment Flatten(List<TorchSharp.Modules.Parameter> members)
    {
        long total = members.Sum(p => p.numel());
        Tensor values = Own(torch.empty(total, members[0].dtype, members[0].device));
        Tensor gradients = Own(torch.zeros(total, members[0].dtype, members[0].device));
        var placed = new List<(TorchSharp.Modules.Parameter, long)>(members.Count);
        long offset = 0;
        using (torch.no_grad())
        {
            foreach (TorchSharp.Modules.Parameter parameter in members)
            {
                long count = parameter.numel();
                using var scope = torch.NewDisposeScope();
                Tensor storage = values.narrow(0, offset, count).view(parameter.shape);
                storage.copy_(parameter);
                parameter.set_(storage);
                parameter.grad = gradients.narrow(0, offset, count).view(parameter.shape);
                placed.Add((parameter, offset));
                offset += count;
            }
        }

        return new Segment(values, gradients, placed);
    }

    private Tensor Own(Tensor tensor)
    {
        Tensor kept = tensor.DetachFromDisposeScope();
        _owned.Add(kept);
        return kept;
    }

    public void Dispose()
    {
        _owned.ForEach(t => t.Dispose());
        _owned.Clear();
    }
}
