using System.Globalization;

namespace Experiments.Runtime.Training;

/// <summary>An optimizer and its arguments, with Keras' defaults.</summary>
public sealed record OptimizerSettings
{
    private OptimizerSettings(Optimizer kind, double learningRate, double momentum, bool nesterov, double beta1, double beta2, double rho, double epsilon, double weightDecay = 0, double initialAccumulator = 0)
    {
        if (!(learningRate > 0) || !double.IsFinite(learningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, $"{kind}: the learning rate must be a positive number, e.g. 0.01.");
        }

        if (momentum is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"{kind}: momentum must lie in [0, 1).");
        }

        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1 || rho is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(beta1), $"{kind}: beta1, beta2 and rho must lie in [0, 1).");
        }

        if (!(epsilon > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"{kind}: epsilon must be positive (Keras uses 1e-7).");
        }

        if (weightDecay is < 0 or >= 1 || initialAccumulator < 0 || !double.IsFinite(initialAccumulator))
        {
            throw new ArgumentOutOfRangeException(nameof(weightDecay), $"{kind}: the weight decay lies in [0, 1) and the initial accumulator is 0 or more.");
        }

        if (nesterov && momentum == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(nesterov), $"{kind}: Nesterov momentum needs a momentum above 0, e.g. 0.9.");
        }

        (Kind, LearningRate, Momentum, Nesterov, Beta1, Beta2, Rho, Epsilon) = (kind, learningRate, momentum, nesterov, beta1, beta2, rho, epsilon);
        (WeightDecay, InitialAccumulator) = (weightDecay, initialAccumulator);
    }

    public Optimizer Kind { get; }

    public double LearningRate { get; }

    public double Momentum { get; }

    public bool Nesterov { get; }

    public double Beta1 { get; }

    public double Beta2 { get; }

    public double Rho { get; }

    public double Epsilon { get; }

    /// <summary>AdamW's decoupled weight decay (0 for the others).</summary>
    public double WeightDecay { get; }

    /// <summary>Adagrad's starting accumulator (0 for the others).</summary>
    public double InitialAccumulator { get; }

    /// <summary>Keras SGD: learning_rate 0.01, momentum 0.</summary>
    public static OptimizerSettings Sgd(double learningRate = 0.01, double momentum = 0, bool nesterov = false) =>
        new(Optimizer.Sgd, learningRate, momentum, nesterov, 0.9, 0.999, 0.9, 1e-7);

    /// <summary>Keras Adam: learning_rate 1e-3, beta_1 0.9, beta_2 0.999, epsilon 1e-7.</summary>
    public static OptimizerSettings Adam(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7) =>
        new(Optimizer.Adam, learningRate, 0, false, beta1, beta2, 0.9, epsilon);

    /// <summary>Keras RMSprop (Keras' default optimizer): learning_rate 1e-3, rho 0.9, epsilon 1e-7.</summary>
    public static OptimizerSettings RmsProp(double learningRate = 1e-3, double rho = 0.9, double epsilon = 1e-7) =>
        new(Optimizer.RmsProp, learningRate, 0, false, 0.9, 0.999, rho, epsilon);

    /// <summary>Keras AdamW: learning_rate 1e-3, weight_decay 0.004, beta_1 0.9, beta_2 0.999, epsilon 1e-7.</summary>
    public static OptimizerSettings AdamW(double learningRate = 1e-3, double weightDecay = 0.004, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7) =>
        new(Optimizer.AdamW, learningRate, 0, false, beta1, beta2, 0.9, epsilon, weightDecay);

    /// <summary>Keras Adagrad: learning_rate 1e-3, initial_accumulator_value 0.1, epsilon 1e-7.</summary>
    public static OptimizerSettings Adagrad(double learningRate = 1e-3, double initialAccumulator = 0.1, double epsilon = 1e-7) =>
        new(Optimizer.Adagrad, learningRate, 0, false, 0.9, 0.999, 0.9, epsilon, initialAccumulator: initialAccumulator);

    /// <summary>Keras Adamax: learning_rate 1e-3, beta_1 0.9, beta_2 0.999, epsilon 1e-7.</summary>
    public static OptimizerSettings Adamax(double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7) =>
        new(Optimizer.Adamax, learningRate, 0, false, beta1, beta2, 0.9, epsilon);

    /// <summary>Keras 2.2 Nadam: lr 0.002, beta_1 0.9, beta_2 0.999, epsilon 1e-7, schedule_decay 0.004.</summary>
    public static OptimizerSettings Nadam(double learningRate = 2e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7) =>
        new(Optimizer.Nadam, learningRate, 0, false, beta1, beta2, 0.9, epsilon);

    /// <summary>Keras 2.2 Adadelta: lr 1.0, rho 0.95, epsilon 1e-7.</summary>
    public static OptimizerSettings Adadelta(double learningRate = 1.0, double rho = 0.95, double epsilon = 1e-7) =>
        new(Optimizer.Adadelta, learningRate, 0, false, 0.9, 0.999, rho, epsilon);

    /// <summary>Nadam's momentum-schedule decay (Keras 2.2's schedule_decay).</summary>
    public const double NadamScheduleDecay = 0.004;

    /// <summary>The same optimizer with another learning rate (a configuration override).</summary>
    public OptimizerSettings WithLearningRate(double learningRate) => new(Kind, learningRate, Momentum, Nesterov, Beta1, Beta2, Rho, Epsilon, WeightDecay, InitialAccumulator);

    public override string ToString() => Kind switch
    {
        Optimizer.Sgd => string.Create(CultureInfo.InvariantCulture, $"SGD(lr={LearningRate:R}, momentum={Momentum:R}{(Nesterov ? ", nesterov" : "")})"),
        Optimizer.Adam => string.Create(CultureInfo.InvariantCulture, $"Adam(lr={LearningRate:R}, beta1={Beta1:R}, beta2={Beta2:R}, epsilon={Epsilon:R})"),
        Optimizer.AdamW => string.Create(CultureInfo.InvariantCulture, $"AdamW(lr={LearningRate:R}, weight_decay={WeightDecay:R}, beta1={Beta1:R}, beta2={Beta2:R}, epsilon={Epsilon:R})"),
        Optimizer.Adagrad => string.Create(CultureInfo.InvariantCulture, $"Adagrad(lr={LearningRate:R}, initial_accumulator={InitialAccumulator:R}, epsilon={Epsilon:R})"),
        Optimizer.Adamax => string.Create(CultureInfo.InvariantCulture, $"Adamax(lr={LearningRate:R}, beta1={Beta1:R}, beta2={Beta2:R}, epsilon={Epsilon:R})"),
        Optimizer.Nadam => string.Create(CultureInfo.InvariantCulture, $"Nadam(lr={LearningRate:R}, beta1={Beta1:R}, beta2={Beta2:R}, epsilon={Epsilon:R}, schedule_decay={NadamScheduleDecay:R})"),
        Optimizer.Adadelta => string.Create(CultureInfo.InvariantCulture, $"Adadelta(lr={LearningRate:R}, rho={Rho:R}, epsilon={Epsilon:R})"),
        _ => string.Create(CultureInfo.InvariantCulture, $"RMSprop(lr={LearningRate:R}, rho={Rho:R}, epsilon={Epsilon:R})"),
    };
}
