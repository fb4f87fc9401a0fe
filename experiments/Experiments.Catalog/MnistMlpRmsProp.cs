using Experiments.Runtime;
using Experiments.Runtime.Data;
using Experiments.Runtime.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Catalog;

/// <summary>Seed 004: Dense 512 relu, Dense 512 relu, Dense 10 softmax; Keras defaults (RMSprop, batch 32), 5 epochs, test set as validation.</summary>
public sealed class MnistMlpRmsProp : IExperiment
{
    public ExperimentInfo Info { get; } = new(
        "mnist-mlp-rmsprop",
        DatasetId.Mnist,
        Fingerprint: "handwritten-v1",
        Summary: "dense (Dense) (None, 512) 401920\ndense_1 (Dense) (None, 512) 262656\ndense_2 (Dense) (None, 10) 5130\nTotal params: 669,706",
        Description: "Seed 004: MLP 512-512 on MNIST, Keras defaults (RMSprop, batch 32), 5 epochs.");

    public TrainingSettings Settings { get; } = new(
        inputShape: [784],
        optimizer: OptimizerSettings.RmsProp(),
        loss: LossKind.CategoricalCrossEntropy,
        batchSize: 32,
        epochs: 5,
        validation: ValidationSpec.TestSet,
        seed: 4);

    public nn.Module<Tensor, Tensor> CreateModel() => new Model();

    private sealed class Model : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> dense;
        private readonly nn.Module<Tensor, Tensor> dense_1;
        private readonly nn.Module<Tensor, Tensor> dense_2;

        public Model()
            : base(nameof(MnistMlpRmsProp))
        {
            dense = nn.Linear(784, 512);
            dense_1 = nn.Linear(512, 512);
            dense_2 = nn.Linear(512, 10);
            KerasInit.Dense(dense);
            KerasInit.Dense(dense_1);
            KerasInit.Dense(dense_2);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            Tensor x = nn.functional.relu(dense.call(input));
            x = nn.functional.relu(dense_1.call(x));
            return dense_2.call(x).MoveToOuterDisposeScope();
        }
    }
}
