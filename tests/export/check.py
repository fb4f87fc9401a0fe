#!/usr/bin/env python3
"""Checks an `experiments export` folder with other runtimes than the one that trained it.

Usage: check.py EXPORT_FOLDER [--tolerance 1e-5]

- PyTorch (Debian's python3-torch): model.py's Model with model.pt loaded gives reference.pt's logits for its
  inputs, within the tolerance times the largest logit's size (at least 1), and the same predicted classes.
- ONNX (Debian's python3-onnx): onnx.checker accepts model.onnx (full check, with shape inference), and where this
  onnx has its reference evaluator, the graph gives the same logits too.
Exit code 0 when everything agrees; 1 with the differences printed otherwise.
"""
import argparse
import importlib.util
import os
import sys

import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    folder = args.folder
    failures = []

    reference = torch.load(os.path.join(folder, "reference.pt"))
    inputs, expected = reference["inputs"], reference["logits"]

    spec = importlib.util.spec_from_file_location("exported_model", os.path.join(folder, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.Model()
    model.load_state_dict(torch.load(os.path.join(folder, "model.pt")), strict=True)
    model.eval()
    with torch.no_grad():
        logits = model(inputs)
    difference = (logits - expected).abs().max().item()
    allowed = args.tolerance * max(1.0, expected.abs().max().item())
    same_classes = bool((logits.argmax(1) == expected.argmax(1)).all())
    print(f"pytorch {torch.__version__}: {inputs.shape[0]} images, largest logit difference {difference:.3g}, "
          f"same classes: {same_classes}, accuracy {(logits.argmax(1) == reference['labels']).float().mean().item():.4f}")
    if not (difference <= allowed and same_classes):
        failures.append(f"PyTorch's logits differ by {difference:.3g} (allowed {allowed:.3g})")

    onnx_path = os.path.join(folder, "model.onnx")
    if os.path.exists(onnx_path):
        import numpy
        import onnx
        graph = onnx.load(onnx_path)
        onnx.checker.check_model(graph, full_check=True)
        print(f"onnx {onnx.__version__}: checker accepts {onnx_path} (opset {graph.opset_import[0].version})")
        try:
            from onnx.reference import ReferenceEvaluator
        except ImportError:
            ReferenceEvaluator = None
        if ReferenceEvaluator is not None:
            got = ReferenceEvaluator(graph).run(["logits"], {"input": inputs.numpy()})[0]
            onnx_difference = float(numpy.abs(got - expected.numpy()).max())
            print(f"onnx reference evaluator: largest logit difference {onnx_difference:.3g}")
            if not onnx_difference <= allowed:
                failures.append(f"ONNX's reference evaluator differs by {onnx_difference:.3g}")
        else:
            print("onnx: no reference evaluator in this version (ONNX Runtime checks the values in the .NET tests)")

    for failure in failures:
        print("error: " + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
