using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Runtime.Training;

/// <summary>
/// SGD, Adam and RMSprop with the update rules of Keras 2.2 (the seed notebooks' Keras), not PyTorch's.
/// </summary>
/// <remarks>
/// Own code because TorchSharp's optimizers follow PyTorch: its Adam adds epsilon to the bias-corrected
/// sqrt(v_hat) and its defaults differ (eps 1e-8), which changes what a Keras notebook's settings reach.
/// Keras 2.2: Adam p -= lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps); RMSprop p -= lr * g / (sqrt(v) + eps);
/// SGD with momentum v = mu*v - lr*g, p += v (Nesterov: p += mu*v - lr*g).
/// </remarks>
public abstract class KerasOptimizer : IDisposable
{
    protected KerasOptimizer(IEnumerable<TorchSharp.Modules.Parameter> parameters, OptimizerSettings settings)
    {
        Parameters = parameters.ToList();
        Settings = settings;
    }

    public IReadOnlyList<TorchSharp.Modules.Parameter> Parameters { get; }

    public OptimizerSettings Settings { get; }

    /// <summary>Steps taken so far (Keras' optimizer.iterations).</summary>
    public long Iterations { get; protected set; }

    /// <summary>Every state tensor (momenta, second moments), in a fixed order: what a checkpoint must hold besides <see cref="Iterations"/>.</summary>
    public abstract IReadOnlyList<Tensor> State { get; }

    /// <summary>Sets the step count of a resumed run (the state tensors are loaded in place).</summary>
    public void RestoreIterations(long iterations) => Iterations = iterations >= 0 ? iterations : throw new ArgumentOutOfRangeException(nameof(iterations));

    public static KerasOptimizer Create(OptimizerSettings settings, IEnumerable<TorchSharp.Modules.Parameter> parameters) => settings.Kind switch
    {
        OptimizerKind.Sgd => new KerasSgd(parameters, settings),
        OptimizerKind.Adam => new KerasAdam(parameters, settings),
        OptimizerKind.RmsProp => new KerasRmsProp(parameters, settings),
        _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Kind, "Unknown optimizer."),
    };

    /// <summary>Applies one update from the gradients currently held by the parameters.</summary>
    public void Step()
    {
        Iterations++;
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        for (int i = 0; i < Parameters.Count; i++)
        {
            TorchSharp.Modules.Parameter parameter = Parameters[i];
            if (parameter.grad is { } gradient)
            {
                Update(i, parameter, gradient);
            }
        }
    }

    public void ZeroGrad()
    {
        foreach (TorchSharp.Modules.Parameter parameter in Parameters)
        {
            parameter.grad?.zero_();
        }
    }

    protected abstract void Update(int index, Tensor parameter, Tensor gradient);

    /// <summary>Per-parameter state tensors (moments), created once and kept outside every dispose scope.</summary>
    protected List<Tensor> CreateSlots()
    {
        var slots = new List<Tensor>(Parameters.Count);
        foreach (TorchSharp.Modules.Parameter parameter in Parameters)
        {
            Tensor slot = torch.zeros_like(parameter).DetachFromDisposeScope();
            slots.Add(slot);
        }

        return slots;
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    protected static void DisposeAll(List<Tensor> tensors) => tensors.ForEach(t => t.Dispose());
}

internal sealed class KerasSgd : KerasOptimizer
{
    private readonly List<Tensor> _velocity;

    public KerasSgd(IEnumerable<TorchSharp.Modules.Parameter> parameters, OptimizerSettings settings)
        : base(parameters, settings)
    {
        _velocity = settings.Momentum > 0 ? CreateSlots() : [];
    }

    public override IReadOnlyList<Tensor> State => _velocity;

    protected override void Update(int index, Tensor parameter, Tensor gradient)
    {
        double lr = Settings.LearningRate;
        double mu = Settings.Momentum;
        if (mu == 0)
        {
            parameter.add_(gradient, alpha: -lr);
            return;
        }

        Tensor velocity = _velocity[index];
        velocity.mul_(mu).add_(gradient, alpha: -lr);
        if (Settings.Nesterov)
        {
            parameter.add_(velocity, alpha: mu).add_(gradient, alpha: -lr);
        }
        else
        {
            parameter.add_(velocity);
        }
    }

    protected override void Dispose(bool disposing) => DisposeAll(_velocity);
}

internal sealed class KerasAdam : KerasOptimizer
{
    private readonly List<Tensor> _m;
    private readonly List<Tensor> _v;

    public KerasAdam(IEnumerable<TorchSharp.Modules.Parameter> parameters, OptimizerSettings settings)
        : base(parameters, settings)
    {
        _m = CreateSlots();
        _v = CreateSlots();
    }

    public override IReadOnlyList<Tensor> State => [.. _m, .. _v];

    protected override void Update(int index, Tensor parameter, Tensor gradient)
    {
        double b1 = Settings.Beta1;
        double b2 = Settings.Beta2;
        double step = Settings.LearningRate * Math.Sqrt(1 - Math.Pow(b2, Iterations)) / (1 - Math.Pow(b1, Iterations));
        Tensor m = _m[index].mul_(b1).add_(gradient, alpha: 1 - b1);
        Tensor v = _v[index].mul_(b2).addcmul_(gradient, gradient, value: 1 - b2);
        parameter.addcdiv_(m, v.sqrt().add_(Settings.Epsilon), value: -step);
    }

    protected override void Dispose(bool disposing)
    {
        DisposeAll(_m);
        DisposeAll(_v);
    }
}

internal sealed class KerasRmsProp : KerasOptimizer
{
    private readonly List<Tensor> _meanSquare;

    public KerasRmsProp(IEnumerable<TorchSharp.Modules.Parameter> parameters, OptimizerSettings settings)
        : base(parameters, settings)
    {
        _meanSquare = CreateSlots();
    }

    public override IReadOnlyList<Tensor> State => _meanSquare;

    protected override void Update(int index, Tensor parameter, Tensor gradient)
    {
        double rho = Settings.Rho;
        Tensor a = _meanSquare[index].mul_(rho).addcmul_(gradient, gradient, value: 1 - rho);
        parameter.addcdiv_(gradient, a.sqrt().add_(Settings.Epsilon), value: -Settings.LearningRate);
    }

    protected override void Dispose(bool disposing) => DisposeAll(_meanSquare);
}
