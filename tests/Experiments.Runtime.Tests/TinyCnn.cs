using Experiments.Runtime.Data;
using Experiments.Runtime.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Runtime.Tests;

/// <summary>A hand-written model meeting the runtime's contract, as generated models will.</summary>
internal sealed class TinyCnn(OptimizerSettings optimizer, ValidationSpec validation, Loss loss = Loss.CategoricalCrossEntropy) : IExperiment
{
    public ExperimentInfo Info { get; } = new("tiny-cnn", Dataset.Mnist, "test", "conv 4x3x3, pool 2, dense 10");

    public TrainingSettings Settings { get; } = new([1, 28, 28], optimizer, loss, batchSize: 64, epochs: 2, validation, seed: 11);

    public nn.Module<Tensor, Tensor> CreateModel() => new Model();

    private sealed class Model : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> conv2d;
        private readonly nn.Module<Tensor, Tensor> max_pooling2d;
        private readonly nn.Module<Tensor, Tensor> dropout;
        private readonly nn.Module<Tensor, Tensor> flatten;
        private readonly nn.Module<Tensor, Tensor> dense;

        public Model()
            : base(nameof(TinyCnn))
        {
            conv2d = nn.Conv2d(1, 4, 3);
            max_pooling2d = nn.MaxPool2d(2);
            dropout = nn.Dropout(0.25);
            flatten = nn.Flatten();
            dense = nn.Linear(4 * 13 * 13, 10);
            KerasInit.Conv2d(conv2d);
            KerasInit.Dense(dense);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            Tensor x = max_pooling2d.call(nn.functional.relu(conv2d.call(input)));
            return dense.call(flatten.call(dropout.call(x))).MoveToOuterDisposeScope();
        }
    }
}
