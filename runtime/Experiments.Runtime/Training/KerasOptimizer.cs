using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Runtime.Training;

/// <summary>
/// SGD, Adam, RMSprop, AdamW, Adagrad, Adamax, Nadam and Adadelta with Keras' update rules (Keras 2.2's, the seed notebooks' Keras, where it has them), not PyTorch's.
/// </summary>
/// <remarks>
/// Own code because TorchSharp's optimizers follow PyTorch: its Adam adds epsilon to the bias-corrected
/// sqrt(v_hat) and its defaults differ (eps 1e-8), which changes what a Keras notebook's settings reach.
/// Keras 2.2: Adam p -= lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps); RMSprop p -= lr * g / (sqrt(v) + eps);
/// SGD with momentum v = mu*v - lr*g, p += v (Nesterov: p += mu*v - lr*g). Keras 3: AdamW p -= p*wd*lr, then Adam;
/// Adagrad a += g^2, p -= lr*g/sqrt(a + eps) (a from 0.1); Adamax m = b1*m + (1-b1)*g, u = max(b2*u, |g|), p -= lr/(1-b1^t) * m/(u + eps).
/// Keras 2.2 Nadam: mu_t = b1*(1 - 0.5*0.96^(t*0.004)), S_t = mu_1...mu_t, m and v as Adam,
/// p -= lr * ((1-mu_t)*g/(1-S_t) + mu_(t+1)*m/(1-S_t*mu_(t+1))) / (sqrt(v/(1-b2^t)) + eps).
/// Keras 2.2 Adadelta: a = rho*a + (1-rho)*g^2, u = g*sqrt(d + eps)/sqrt(a + eps), p -= lr*u, d = rho*d + (1-rho)*u^2.
/// </remarks>
public abstract class KerasOptimizer : IDisposable
{
    private IReadOnlyList<Tensor> _checkpointViews = [];

    protected KerasOptimizer(ParameterLayout layout, OptimizerSettings settings)
    {
        Layout = layout;
        Settings = settings;
        LearningRate = settings.LearningRate;
    }

    /// <summary>The trainable parameters, as the segments each update step works on.</summary>
    public ParameterLayout Layout { get; }

    public IReadOnlyList<TorchSharp.Modules.Parameter> Parameters => Layout.Parameters;

    public OptimizerSettings Settings { get; }

    /// <summary>The rate the next step uses: the declared one unless a schedule or plateau sets another.</summary>
    public double LearningRate
    {
        get;
        set => field = value >= 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The learning rate must be a finite number of 0 or more.");
    }

    /// <summary>Steps taken so far (Keras' optimizer.iterations).</summary>
    public long Iterations { get; protected set; }

    /// <summary>
    /// Every state tensor (momenta, second moments) as one tensor per parameter in a fixed order, whatever the layout:
    /// what a checkpoint must hold besides <see cref="Iterations"/>. Loading writes through these views.
    /// </summary>
    public IReadOnlyList<Tensor> State => _checkpointViews;

    /// <summary>Sets the step count of a resumed run (the state tensors are loaded in place).</summary>
    public void RestoreIterations(long iterations) => Iterations = iterations >= 0 ? iterations : throw new ArgumentOutOfRangeException(nameof(iterations));

    /// <summary>An optimizer over <paramref name="layout"/>'s parameters; the layout then belongs to it.</summary>
    public static KerasOptimizer Create(OptimizerSettings settings, ParameterLayout layout) => settings.Kind switch
    {
        Optimizer.Sgd => new KerasSgd(layout, settings),
        Optimizer.Adam => new KerasAdam(layout, settings),
        Optimizer.RmsProp => new KerasRmsProp(layout, settings),
        Optimizer.AdamW => new KerasAdam(layout, settings),
        Optimizer.Adagrad => new KerasAdagrad(layout, settings),
        Optimizer.Adamax => new KerasAdamax(layout, settings),
        Optimizer.Nadam => new KerasNadam(layout, settings),
        Optimizer.Adadelta => new KerasAdadelta(layout, settings),
        _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Kind, "Unknown optimizer."),
    };

    /// <summary>An optimizer over the parameters one by one (no shared storage).</summary>
    public static KerasOptimizer Create(OptimizerSettings settings, IEnumerable<TorchSharp.Modules.Parameter> parameters) =>
        Create(settings, ParameterLayout.Create(ParameterLayoutKind.PerParameter, parameters));

    /// <summary>Applies one update from the gradients currently held by the parameters.</summary>
    public void Step()
    {
        Iterations++;
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        for (int i = 0; i < Layout.Segments.Count; i++)
        {
            ParameterLayout.Segment segment = Layout.Segments[i];
            if (segment.Gradients() is { } gradient)
            {
                Update(i, segment.Values, gradient);
            }
        }
    }

    public void ZeroGrad() => Layout.ZeroGradients();

    /// <summary>Updates segment <paramref name="index"/> (its values in place) from its gradient.</summary>
    protected abstract void Update(int index, Tensor parameter, Tensor gradient);

    /// <summary>One zeroed state tensor per segment, kept outside every dispose scope, and registered for checkpoints in creation order.</summary>
    protected List<Tensor> CreateSlots()
    {
        var slots = new List<Tensor>(Layout.Segments.Count);
        foreach (ParameterLayout.Segment segment in Layout.Segments)
        {
            slots.Add(torch.zeros_like(segment.Values).DetachFromDisposeScope());
        }

        _checkpointViews = [.. _checkpointViews, .. Layout.PerParameterViews(slots)];
        return slots;
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        Layout.Dispose();
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    protected static void DisposeAll(List<Tensor> tensors) => tensors.ForEach(t => t.Dispose());

    /// <summary>
    /// The correctly rounded square root on every CPU. LibTorch's float32 sqrt on the CPU is oneMKL's vector maths
    /// (vsSqrt, high-accuracy mode, under every kernel set), which stays within an ulp but is not correctly rounded on
    /// every CPU model: on an AMD EPYC family 26 (Zen 5) 304,229 of the 2,097,152 values of `kernel-bits` came out one
    /// ulp off, and every Adam and RMSprop run parted there from the bits an Intel Xeon computes. The CPU's own square
    /// root instruction is IEEE 754's, correctly rounded on every x86-64 and Arm CPU; .NET's TensorPrimitives.Sqrt
    /// runs it (Vector512/256/128.Sqrt, MathF.Sqrt for the tail), on one thread. Taking LibTorch's root in float64
    /// instead is exact too (same bits) but cost the MLPs a quarter of their training throughput on Zen 5; this costs
    /// 2-5% (`speed`, two rounds each: mnist-mlp-512-rmsprop 13,997-14,423 images/s against 14,465-14,592 with
    /// LibTorch's root, fashion-mlp-bn 11,792-12,254 against 12,395-13,244). CUDA's sqrtf is correctly rounded already.
    /// </summary>
    public static Tensor CorrectlyRoundedSqrt(Tensor x)
    {
        if (!OnHostFloat32(x))
        {
            return x.sqrt();
        }

        using Tensor input = x.contiguous();
        return RootInto(input, torch.empty_like(input));
    }

    /// <summary>
    /// <see cref="CorrectlyRoundedSqrt"/> written over <paramref name="x"/> itself (the same bits), for a temporary the
    /// step made anyway: no second buffer is allocated (and zero-filled) per step.
    /// </summary>
    public static Tensor CorrectlyRoundedSqrt_(Tensor x) =>
        !OnHostFloat32(x) ? x.sqrt_() : x.is_contiguous() ? RootInto(x, x) : x.copy_(CorrectlyRoundedSqrt(x));

    private static bool OnHostFloat32(Tensor x) => x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float32;

    /// <summary>The roots of contiguous <paramref name="input"/> into contiguous <paramref name="root"/> (the same tensor is allowed).</summary>
    private static Tensor RootInto(Tensor input, Tensor root)
    {
        System.Numerics.Tensors.TensorPrimitives.Sqrt(
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(input.bytes),
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(root.bytes));
        return root;
    }
}

internal sealed class KerasSgd : KerasOptimizer
{
    private readonly List<Tensor> _velocity;

    public KerasSgd(ParameterLayout layout, OptimizerSettings settings)
        : base(layout, settings)
    {
        _velocity = settings.Momentum > 0 ? CreateSlots() : [];
    }

    protected override void Update(int index, Tensor parameter, Tensor gradient)
    {
        double lr = LearningRate;
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

    public KerasAdam(ParameterLayout layout, OptimizerSettings settings)
        : base(layout, settings)
    {
        _m = CreateSlots();
        _v = CreateSlots();
    }

    protected override void Update(int index, Tensor parameter, Tensor gradient)
    {
        double b1 = Settings.Beta1;
        double b2 = Settings.Beta2;
        double step = LearningRate * Math.Sqrt(1 - Math.Pow(b2, Iterations)) / (1 - Math.Pow(b1, Iterations));
        if (Settings.WeightDecay > 0)
        {
            // Keras AdamW: the decoupled decay p -= p * weight_decay * lr, applied before the Adam update.
            parameter.mul_(1 - (Settings.WeightDecay * LearningRate));
        }

        Tensor m = _m[index].mul_(b1).add_(gradient, alpha: 1 - b1);
        Tensor v = _v[index].mul_(b2).addcmul_(gradient, gradient, value: 1 - b2);
        parameter.addcdiv_(m, CorrectlyRoundedSqrt(v).add_(Settings.Epsilon), value: -step);
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

    public KerasRmsProp(ParameterLayout layout, OptimizerSettings settings)
        : base(layout, settings)
    {
        _meanSquare = CreateSlots();
    }

    protected override void Update(int index, Tensor parameter, Tensor gradient)
    {
        double rho = Settings.Rho;
        Tensor a = _meanSquare[index].mul_(rho).addcmul_(gradient, gradient, value: 1 - rho);
        parameter.addcdiv_(gradient, CorrectlyRoundedSqrt(a).add_(Settings.Epsilon), value: -LearningRate);
    }

    protected override void Dispose(bool disposing) => DisposeAll(_meanSquare);
}

internal sealed class KerasAdagrad : KerasOptimizer
{
    private readonly List<Tensor> _accumulator;

    public KerasAdagrad(ParameterLayout layout, OptimizerSettings settings)
        : base(layout, settings)
    {
        _accumulator = CreateSlots();
        _accumulator.ForEach(a => a.fill_(settings.InitialAccumulator));
    }

    protected override void Update(int index, Tensor parameter, Tensor gradient)
    {
        Tensor a = _accumulator[index].addcmul_(gradient, gradient, value: 1);
        parameter.addcdiv_(gradient, CorrectlyRoundedSqrt_(a.add(Settings.Epsilon)), value: -LearningRate);
    }

    protected override void Dispose(bool disposing) => DisposeAll(_accumulator);
}

internal sealed class KerasAdamax : KerasOptimizer
{
    private readonly List<Tensor> _m;
    private readonly List<Tensor> _u;

    public KerasAdamax(ParameterLayout layout, OptimizerSettings settings)
        : base(layout, settings)
    {
        _m = CreateSlots();
        _u = CreateSlots();
    }

    protected override void Update(int index, Tensor parameter, Tensor gradient)
    {
        double b1 = Settings.Beta1;
        Tensor m = _m[index].mul_(b1).add_(gradient, alpha: 1 - b1);
        Tensor u = _u[index];
        u.copy_(torch.maximum(u.mul_(Settings.Beta2), gradient.abs()));
        parameter.addcdiv_(m, u.add(Settings.Epsilon), value: -LearningRate / (1 - Math.Pow(b1, Iterations)));
    }

    protected override void Dispose(bool disposing)
    {
        DisposeAll(_m);
        DisposeAll(_u);
    }
}

internal sealed class KerasNadam : KerasOptimizer
{
    private readonly List<Tensor> _m;
    private readonly List<Tensor> _v;
    private long _scheduleStep;
    private double _schedule = 1;

    public KerasNadam(ParameterLayout layout, OptimizerSettings settings)
        : base(layout, settings)
    {
        _m = CreateSlots();
        _v = CreateSlots();
    }

    /// <summary>mu_t, Keras 2.2's momentum cache for step t.</summary>
    private double Momentum(long t) => Settings.Beta1 * (1 - (0.5 * Math.Pow(0.96, t * OptimizerSettings.NadamScheduleDecay)));

    /// <summary>
    /// S_t = mu_1 * ... * mu_t, Keras' m_schedule. A function of the step count alone, so a resumed run (which restores
    /// only the count) recomputes it in the same order and gets the same bits; kept between steps so that a run
    /// multiplies once per step.
    /// </summary>
    private double Schedule(long t)
    {
        if (_scheduleStep > t)
        {
            (_scheduleStep, _schedule) = (0, 1);
        }

        for (; _scheduleStep < t; _scheduleStep++)
        {
            _schedule *= Momentum(_scheduleStep + 1);
        }

        return _schedule;
    }

    protected override void Update(int index, Tensor parameter, Tensor gradient)
    {
        long t = Iterations;
        double b1 = Settings.Beta1;
        double b2 = Settings.Beta2;
        double mu = Momentum(t);
        double muNext = Momentum(t + 1);
        double schedule = Schedule(t);
        Tensor m = _m[index].mul_(b1).add_(gradient, alpha: 1 - b1);
        Tensor v = _v[index].mul_(b2).addcmul_(gradient, gradient, value: 1 - b2);
        using Tensor mBar = gradient.mul((1 - mu) / (1 - schedule)).add_(m, alpha: muNext / (1 - (schedule * muNext)));
        using Tensor denominator = CorrectlyRoundedSqrt_(v.div(1 - Math.Pow(b2, t))).add_(Settings.Epsilon);
        parameter.addcdiv_(mBar, denominator, value: -LearningRate);
    }

    protected override void Dispose(bool disposing)
    {
        DisposeAll(_m);
        DisposeAll(_v);
    }
}

internal sealed class KerasAdadelta : KerasOptimizer
{
    private readonly List<Tensor> _squares;
    private readonly List<Tensor> _updates;

    public KerasAdadelta(ParameterLayout layout, OptimizerSettings settings)
        : base(layout, settings)
    {
        _squares = CreateSlots();
        _updates = CreateSlots();
    }

    protected override void Update(int index, Tensor parameter, Tensor gradient)
    {
        double rho = Settings.Rho;
        double eps = Settings.Epsilon;
        Tensor a = _squares[index].mul_(rho).addcmul_(gradient, gradient, value: 1 - rho);
        Tensor d = _updates[index];
        using Tensor update = gradient.mul(CorrectlyRoundedSqrt_(d.add(eps))).div_(CorrectlyRoundedSqrt_(a.add(eps)));
        parameter.add_(update, alpha: -LearningRate);
        d.mul_(rho).addcmul_(update, update, value: 1 - rho);
    }

    protected override void Dispose(bool disposing)
    {
        DisposeAll(_squares);
        DisposeAll(_updates);
    }
}
