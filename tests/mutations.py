#!/usr/bin/env python3
"""Breaks the product on purpose, once per claim, and checks that the claim's test fails.

Each mutation replaces one exact piece of product code (it must occur exactly once), builds the test project, runs
the named tests and expects them to fail; the file is restored afterwards whatever happens. A mutation whose tests
still pass is a test that cannot fail: the script exits 1 and says which. docs/testing.md lists the claims, the
tests and the outcome of the last run.

Usage (repository root, after `dotnet build`; the working tree must have no uncommitted change to the mutated files):
    python3 tests/mutations.py            # all
    python3 tests/mutations.py welch-df resume-position
    python3 tests/mutations.py --list
"""
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUNTIME_TESTS = "tests/Experiments.Runtime.Tests"
GENERATOR_TESTS = "tests/Experiments.Generators.Tests"

# name: (claim, file, original, mutated, test project, test filter)
MUTATIONS = {
    "exact-ulp": (
        "a matching environment compares every double bit for bit",
        "runtime/Experiments.Runtime/Snapshots/SnapshotComparison.cs",
        "bool same = BitConverter.DoubleToInt64Bits(approved) == BitConverter.DoubleToInt64Bits(received);",
        "bool same = Math.Abs(approved - received) <= 1e-12 * Math.Max(1, Math.Abs(approved));",
        RUNTIME_TESTS, "FullyQualifiedName~SnapshotTests.Same_environment_compares_exactly_down_to_one_ulp"),
    "stop-saves-checkpoint": (
        "Ctrl-C or SIGTERM stops at a batch boundary and saves a checkpoint",
        "runtime/Experiments.Runtime/Training/ExperimentRunner.cs",
        "Checkpoint.Save(checkpointPath, new CheckpointState(resumeKey, epoch, stopped.NextBatch,",
        "_ = (checkpointPath, new CheckpointState(resumeKey, epoch, stopped.NextBatch,",
        RUNTIME_TESTS, "FullyQualifiedName~SignalTests"),
    "resume-position": (
        "a stopped run resumes from the batch it stopped at, to the same bits as an uninterrupted run",
        "runtime/Experiments.Runtime/Training/ExperimentRunner.cs",
        "position = new EpochPosition(state.NextBatch, state.LossSum, state.Correct);",
        "position = new EpochPosition(0, 0, 0);",
        RUNTIME_TESTS, "FullyQualifiedName~ResilienceTests.Sigint_stops_mid_epoch"),
    "checkpoint-key": (
        "a checkpoint of another configuration is refused, naming the field",
        "runtime/Experiments.Runtime/Training/Checkpoint.cs",
        "if (state.Key != expectedKey)",
        "if (false && state.Key != expectedKey)",
        RUNTIME_TESTS, "FullyQualifiedName~ResilienceTests.Resuming_a_checkpoint_of_another_configuration_is_refused"),
    "process-seed": (
        "metrics.json is byte-identical across processes",
        "runtime/Experiments.Runtime/Training/ExperimentRunner.cs",
        "TorchRuntime.Seed(SeedStreams.TorchSeed(settings.Seed, SeedPurpose.WeightInit));",
        "TorchRuntime.Seed(SeedStreams.TorchSeed(settings.Seed, SeedPurpose.WeightInit) ^ Environment.ProcessId);",
        RUNTIME_TESTS, "FullyQualifiedName~ProcessDeterminismTests.Two_processes_write_byte_identical_metrics"),
    "approval-repeat": (
        "accept approves only a bit-identical repeat",
        "runtime/Experiments.Runtime/Snapshots/SnapshotApproval.cs",
        "string repeatedText = repeat(received);\n        if (!string.Equals(",
        "string repeatedText = repeat(received);\n        if (false && !string.Equals(",
        RUNTIME_TESTS, "FullyQualifiedName~SnapshotTests.Approval_requires_an_identical_repeat"),
    "folder-identity-pixels": (
        "an image folder's identity is its decoded pixels: one changed pixel changes it",
        "runtime/Experiments.Runtime/Data/ImageDataset.cs",
        "            sha.AppendData(set.Images);\n",
        "",
        RUNTIME_TESTS, "FullyQualifiedName~ImageFolderTests.A_folder_of_png_digits_trains_and_its_identity_changes"),
    "fill-open-before-backward": (
        "the fill is on while a convolution's backward node runs",
        "runtime/Experiments.Runtime/Native/AllocatorFill.cs",
        "if (Enter() && ctx.get_data(\"closed\") is false)",
        "if (false && ctx.get_data(\"closed\") is false)",
        RUNTIME_TESTS, "FullyQualifiedName~AllocatorFillTests"),
    "layout-identity": (
        "a run in channels-last says so in its identity, so NCHW snapshots never compare exactly with it",
        "runtime/Experiments.Runtime/Training/ExperimentRunner.cs",
        "MachineInfo.CpuIdentity() + layout :",
        "MachineInfo.CpuIdentity() :",
        RUNTIME_TESTS, "FullyQualifiedName~ConvolutionLayoutTests"),
    "layout-enter": (
        "generated convolution models run channels-last where the layout says so",
        "runtime/Experiments.Runtime/Native/ConvolutionLayout.cs",
        "if (input.dim() != 4 || input.device_type != DeviceType.CPU || !ChannelsLast)",
        "if (input.dim() >= 0 || input.device_type != DeviceType.CPU || !ChannelsLast)",
        RUNTIME_TESTS, "FullyQualifiedName~ConvolutionLayoutTests"),
    "image-weight-gradient-padding": (
        "the batch-as-channels weight gradient pads as the convolution does",
        "runtime/Experiments.Runtime/Native/ImageWeightGradient.cs",
        "nn.functional.conv2d(images, kernels, padding: padding);",
        "nn.functional.conv2d(images, kernels, padding: [padding[1], padding[0]]);",
        RUNTIME_TESTS, "FullyQualifiedName~ConvolutionLayoutTests"),
    "image-weight-gradient-taken": (
        "a first convolution with few filters takes the batch-as-channels weight gradient in training",
        "runtime/Experiments.Runtime/Native/ConvolutionLayout.cs",
        "&& is_grad_enabled() && ChannelsLast;",
        "&& is_grad_enabled() && ChannelsLast && false;",
        RUNTIME_TESTS, "FullyQualifiedName~ConvolutionLayoutTests"),
    "fill-close-after-backward": (
        "the fill is off again once a convolution's backward node has run",
        "runtime/Experiments.Runtime/Native/AllocatorFill.cs",
        """            Exit();
            return [grad_output];""",
        """            return [grad_output];""",
        RUNTIME_TESTS, "FullyQualifiedName~AllocatorFillTests"),
    "folder-class-order": (
        "an image folder's classes are its subfolders in ordinal order",
        "runtime/Experiments.Runtime/Data/ImageFolder.cs",
        "foreach (string directory in Directory.GetDirectories(folder).Order(StringComparer.Ordinal))",
        "foreach (string directory in Directory.GetDirectories(folder).OrderDescending(StringComparer.Ordinal))",
        RUNTIME_TESTS, "FullyQualifiedName~ImageFolderTests.Classes_follow_the_ordinal_order"),
    "table-class-order": (
        "a CSV file's class names are its labels in ordinal order",
        "runtime/Experiments.Runtime/Data/Table.cs",
        "texts.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray()",
        "texts.Distinct(StringComparer.Ordinal).ToArray()",
        RUNTIME_TESTS, "FullyQualifiedName~TableTests.Names_are_classes_in_ordinal_order"),
    "gallery-colour": (
        "an RGB dataset's galleries are drawn in colour",
        "runtime/Experiments.Runtime/Reports/Gallery.cs",
        "if (images.Channels == 3)",
        "if (images.Channels == -3)",
        GENERATOR_TESTS, "FullyQualifiedName~RgbFolderTrainingTests"),
    "onnx-lstm-gates": (
        "the ONNX graph gives TorchSharp's logits (an LSTM's gates in ONNX's order)",
        "runtime/Experiments.Runtime/Export/OnnxGraph.cs",
        '"LSTM" => [0, 3, 1, 2],',
        '"LSTM" => [0, 1, 2, 3],',
        GENERATOR_TESTS, "FullyQualifiedName~ExportTests.Layer_families_export"),
    "pytorch-pad": (
        "the exported PyTorch module gives TorchSharp's logits (Keras' asymmetric padding on the right sides)",
        "generators/Experiments.Generators/ExperimentGenerator.Emitter.Export.cs",
        'PadStep p => $"{v} = F.pad({v}, ({p.Left}, {p.Right}, {p.Top}, {p.Bottom})',
        'PadStep p => $"{v} = F.pad({v}, ({p.Right}, {p.Left}, {p.Bottom}, {p.Top})',
        GENERATOR_TESTS, "FullyQualifiedName~ExportTests.Layer_families_export"),
    "predict-scale": (
        "predict scales pixels as training did (its probabilities give the run's test loss)",
        "runtime/Experiments.Runtime/Hosting/Predictor.cs",
        "Experiment.Settings.InputShape, Experiment.Settings.InputScale, CPU)",
        "Experiment.Settings.InputShape, 1f, CPU)",
        RUNTIME_TESTS, "FullyQualifiedName~PredictTests.Predict_gives_the_runs_own_predictions"),
    "dataset-sha256": (
        "a corrupted dataset file is a data error naming it (SHA-256)",
        "runtime/Experiments.Runtime/Data/DatasetProvisioner.cs",
        "string actual = Sha256Hex(raw);\n        if (actual != file.Sha256)\n        {\n            throw new DatasetException(",
        "string actual = Sha256Hex(raw);\n        if (false && actual != file.Sha256)\n        {\n            throw new DatasetException(",
        RUNTIME_TESTS, "FullyQualifiedName~BadInputTests.A_missing_or_corrupted_dataset_file_is_a_data_error_naming_it"),
    "welch-df": (
        "two sets of seeds are compared with Welch's interval",
        "runtime/Experiments.Runtime/Results/SeedStatistics.cs",
        "double df = (va + vb) * (va + vb) / ((va * va / (sa.Count - 1)) + (vb * vb / (sb.Count - 1)));",
        "double df = sa.Count + sb.Count - 2;",
        RUNTIME_TESTS, "FullyQualifiedName~SeedStatisticsTests"),
    "bootstrap-draws": (
        "the bootstrap interval resamples every seed with replacement",
        "runtime/Experiments.Runtime/Results/SeedStatistics.cs",
        "sum += values[random.NextInt(n)];",
        "sum += values[random.NextInt(Math.Max(1, n - 1))];",
        RUNTIME_TESTS, "FullyQualifiedName~SeedStatisticsTests"),
    "one-comment": (
        "a pull request has one review comment, updated in place",
        "scripts/pr-review.sh",
        '--jq ".[] | select(.body | contains(\\"$marker\\")) | .id"',
        '--jq ".[] | select(.body | contains(\\"experiments-review\\")) | .id"',
        RUNTIME_TESTS, "FullyQualifiedName~ReviewTests.Received_snapshots_are_reviewed_and_the_ci_script"),
    "window-too-large": (
        "a model that cannot work is a compile error (a window larger than its input)",
        "generators/Experiments.Generators/ExperimentGenerator.ModelWalk.cs",
        "if (!same && (layer.KernelHeight > height || layer.KernelWidth > width))",
        "if (false && !same && (layer.KernelHeight > height || layer.KernelWidth > width))",
        GENERATOR_TESTS, "FullyQualifiedName~DiagnosticTests.Bad_declaration_gets_its_diagnostic_at_the_offending_code"),
    "summary-counts": (
        "the summaries equal the parameter counts the notebooks printed",
        "generators/Experiments.Generators/ExperimentGenerator.ModelWalk.cs",
        "((kerasHasOneBias ? 1 : 2) * units)",
        "((kerasHasOneBias ? 0 : 2) * units)",
        GENERATOR_TESTS, "FullyQualifiedName~CatalogModelTests.Summaries_equal_the_counts_the_notebooks_printed"),
    "dispose-scope": (
        "one dispose scope per batch: its tensors are freed when it ends, and the resident set stays flat",
        "runtime/Experiments.Runtime/Training/ExperimentRunner.cs",
        "using var scope = torch.NewDisposeScope();\n            int first = batch * settings.BatchSize;",
        "int first = batch * settings.BatchSize;",
        RUNTIME_TESTS, "FullyQualifiedName~TrainingTests.Resident_set_stays_flat_from_the_second_epoch_on"),
    "kernel-pin": (
        "run --pin-kernels SET computes what setting SET's variables does, and on AVX-512 other bits than the native kernels",
        "runtime/Experiments.Runtime/Native/KernelSet.cs",
        "TorchRuntime.SetNativeEnvironment(name, value, overwrite: true);",
        "_ = (name, value);",
        RUNTIME_TESTS, "FullyQualifiedName~KernelEnvelopeTests.Pinning_a_kernel_set_in_process_equals_setting_its_variables_and_is_recorded"),
    "identity-bit-field": (
        "every field of where a run ran that decides its bits is compared (one definition of the identity)",
        "runtime/Experiments.Runtime/Training/RunIdentity.cs",
        'new("threads", Threads),',
        'new("threads", Threads, DecidesBits: false),',
        RUNTIME_TESTS, "FullyQualifiedName~SnapshotTests.Every_identity_field_is_written_once"),
    "declared-reported": (
        "the reported figure is read from the declaration at build time (no reflection at run time)",
        "generators/Experiments.Generators/ExperimentGenerator.Emitter.cs",
        "if (checks.Reported is { } r)",
        "if (checks.Reported is { } r && r.TestAccuracy < 0)",
        GENERATOR_TESTS, "FullyQualifiedName~DeclaredChecksTests"),
    "controls-state": (
        "the plateau's state travels in the checkpoint, so a resumed run reduces the rate where the uninterrupted one did",
        "runtime/Experiments.Runtime/Training/TrainingControls.cs",
        "        Plateau = state.Plateau;",
        "        _ = state.Plateau;",
        RUNTIME_TESTS, "FullyQualifiedName~TrainingControlsTests.Interrupted_mid_epoch_or_after_an_epoch"),
    "best-weights": (
        "early stopping ends with the weights of the best epoch, ties going to the earliest",
        "runtime/Experiments.Runtime/Training/TrainingControls.cs",
        "current[name].copy_(value);",
        "_ = value;",
        RUNTIME_TESTS, "FullyQualifiedName~TrainingControlsTests.Early_stopping_stops_at_its_patience"),
    "rotation-sign": (
        "RandomRotation turns by the drawn angle in Keras' direction, about the image's centre",
        "runtime/Experiments.Runtime/Training/Augmentation.cs",
        "= (cos, -sin, 0, sin, cos, 0);",
        "= (cos, sin, 0, -sin, cos, 0);",
        RUNTIME_TESTS, "FullyQualifiedName~AugmentationTests.Rotation_and_zoom"),
    "augmentation-index": (
        "an image's augmentation is drawn from its index in the training set, not its place in the batch",
        "runtime/Experiments.Runtime/Training/Augmentation.cs",
        "int example = examples[i];",
        "int example = i;",
        RUNTIME_TESTS, "FullyQualifiedName~AugmentationTests.Each_example_gets_the_same_bits"),
    "same-average": (
        "a 'same' average pool averages over the pixels inside the image, as Keras does",
        "generators/Experiments.Generators/ExperimentGenerator.Emitter.cs",
        "count_include_pad: false",
        "count_include_pad: true",
        GENERATOR_TESTS, "FullyQualifiedName~LayerFamilyTests.Same_average_pooling"),
    "cpu-model-snapshot": (
        "a CPU model with its own approved snapshot is compared with it, every other model with the main one",
        "runtime/Experiments.Runtime/Snapshots/CpuModelSnapshots.cs",
        "return key is not null && File.Exists(SnapshotVerifier.VerifiedPath(Folder(directory, key), experiment))",
        "return key is not null && File.Exists(SnapshotVerifier.VerifiedPath(directory, experiment))",
        RUNTIME_TESTS, "FullyQualifiedName~SnapshotTests.A_snapshot_approved_for_one_cpu_model"),
    "penalty-in-training": (
        "a kernel regularizer is added to the loss that is minimised and reported in training",
        "runtime/Experiments.Runtime/Training/ExperimentRunner.cs",
        "                loss = loss + penalty;",
        "                _ = penalty;",
        RUNTIME_TESTS, "FullyQualifiedName~TrainingControlsTests.A_kernel_regularizer"),
    "penalty-l2-square": (
        "the L2 penalty is l2 * sum W^2, as Keras' L1L2",
        "runtime/Experiments.Runtime/Training/KernelPenalty.cs",
        "weight.square().sum().mul_(L2)",
        "weight.abs().sum().mul_(L2)",
        GENERATOR_TESTS, "FullyQualifiedName~LayerFamilyTests.Kernel_regularizers"),
    "conv1d-same-offset": (
        "an even Conv1D window under 'same' pads one step more at the end, as Keras does",
        "generators/Experiments.Generators/ExperimentGenerator.ModelWalk.Layers.cs",
        "(left, right) = (total / 2, total - (total / 2));",
        "(left, right) = (total - (total / 2), total / 2);",
        GENERATOR_TESTS, "FullyQualifiedName~LayerFamilyTests.One_dimensional_convolution"),
    "bidirectional-backward-step": (
        "a bidirectional layer's last-step output takes the backward reading at the sequence's first step",
        "generators/Experiments.Generators/ExperimentGenerator.Emitter.cs",
        "both.select(1, 0).narrow(1, {a[0]}, {a[0]})",
        "both.select(1, -1).narrow(1, {a[0]}, {a[0]})",
        GENERATOR_TESTS, "FullyQualifiedName~LayerFamilyTests.Bidirectional_reads"),
    "nadam-schedule": (
        "Nadam's momentum schedule follows Keras 2.2 (mu_t from the step count)",
        "runtime/Experiments.Runtime/Training/KerasOptimizer.cs",
        "double muNext = Momentum(t + 1);",
        "double muNext = Momentum(t);",
        RUNTIME_TESTS, "FullyQualifiedName~OptimizerTests.Nadam_follows"),
    "penalty-in-evaluation": (
        "a kernel regularizer is added to the evaluation loss, as Keras' evaluate reports it",
        "runtime/Experiments.Runtime/Training/ExperimentRunner.cs",
        "(penalty is null ? 0 : penalty.to(torch.float64).item<double>())",
        "(penalty is null ? 0 : 0)",
        RUNTIME_TESTS, "FullyQualifiedName~TrainingControlsTests.A_kernel_regularizer"),
    "sqrt-float32": (
        "the optimizers' square roots are correctly rounded on every CPU (not oneMKL's float32 vsSqrt)",
        "runtime/Experiments.Runtime/Training/KerasOptimizer.cs",
        "private static bool OnHostFloat32(Tensor x) => x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float32;",
        "private static bool OnHostFloat32(Tensor x) => x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float64;",
        RUNTIME_TESTS, "FullyQualifiedName~CorrectlyRoundedSqrtTests"),
    "rmsprop-plain-sqrt": (
        "RMSprop divides by the correctly rounded root",
        "runtime/Experiments.Runtime/Training/KerasOptimizer.cs",
        "parameter.addcdiv_(gradient, CorrectlyRoundedSqrt(a).add_(Settings.Epsilon), value: -LearningRate);",
        "parameter.addcdiv_(gradient, a.sqrt().add_(Settings.Epsilon), value: -LearningRate);",
        RUNTIME_TESTS, "FullyQualifiedName~CorrectlyRoundedSqrtTests.Rmsprop"),
    "adam-plain-sqrt": (
        "Adam divides by the correctly rounded root",
        "runtime/Experiments.Runtime/Training/KerasOptimizer.cs",
        "parameter.addcdiv_(m, CorrectlyRoundedSqrt(v).add_(Settings.Epsilon), value: -step);",
        "parameter.addcdiv_(m, v.sqrt().add_(Settings.Epsilon), value: -step);",
        RUNTIME_TESTS, "FullyQualifiedName~CorrectlyRoundedSqrtTests.Adam"),
}


def run(command, log):
    with open(log, "a", encoding="utf-8") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        return subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode


def mutate(name, log):
    claim, file, original, mutated, project, test_filter = MUTATIONS[name]
    path = ROOT / file
    text = path.read_text(encoding="utf-8")
    count = text.count(original)
    if count != 1:
        raise SystemExit(f"{name}: {file} holds the original {count} times, not once: update the mutation to the code")
    if subprocess.run(["git", "diff", "--quiet", "--", file], cwd=ROOT).returncode != 0:
        raise SystemExit(f"{name}: {file} has uncommitted changes; commit or stash them first")
    start = time.time()
    try:
        path.write_text(text.replace(original, mutated), encoding="utf-8")
        if run(["dotnet", "build", project, "-nologo", "-v", "quiet"], log) != 0:
            return "build failed", time.time() - start
        status = run(["dotnet", "test", project, "--no-build", "--filter", test_filter], log)
        return ("test failed (as it must)" if status != 0 else "TEST PASSED: it cannot catch this"), time.time() - start
    finally:
        path.write_text(text, encoding="utf-8")


def main(argv):
    if "--list" in argv:
        for name, (claim, file, *_rest) in MUTATIONS.items():
            print(f"{name}: {claim} ({file})")
        return 0
    names = [a for a in argv if not a.startswith("-")] or list(MUTATIONS)
    unknown = [n for n in names if n not in MUTATIONS]
    if unknown:
        raise SystemExit(f"unknown mutation(s) {', '.join(unknown)}; --list shows them")
    log = ROOT / "tests" / "mutations.log"
    log.write_text("", encoding="utf-8")
    survived = []
    print("| mutation | claim | test | outcome | seconds |")
    print("|---|---|---|---|---:|")
    for name in names:
        outcome, seconds = mutate(name, log)
        claim, _file, _o, _m, project, test_filter = MUTATIONS[name]
        print(f"| `{name}` | {claim} | `{test_filter.split('~', 1)[1]}` | {outcome} | {seconds:.0f} |", flush=True)
        if not outcome.startswith("test failed"):
            survived.append(name)
    # Leave the build as the sources are.
    run(["dotnet", "build", "-nologo", "-v", "quiet"], log)
    if survived:
        print(f"mutations: {', '.join(survived)} not caught; see {log}", file=sys.stderr)
        return 1
    print(f"mutations: all {len(names)} caught (log: {log})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
