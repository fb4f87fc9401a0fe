#!/usr/bin/env python3
"""Summarises `run --kernels all` results: per experiment, the spread of test accuracy across CPU kernel sets, the
largest share of test and train examples that changed confusion cell, and the run's training seconds.

Usage: python3 benchmarks/kernel_spread.py RESULTS_FOLDER   (after `experiments run '*' --profile smoke --kernels all --out RESULTS_FOLDER`)
Prints a Markdown table (the one in docs/reproducibility.md)."""
import json
import pathlib
import sys


def main(folder: str) -> None:
    rows = []
    for kernels in sorted(pathlib.Path(folder).glob("*/kernels.txt")):
        result = kernels.parent
        metrics = json.loads((result / "metrics.json").read_text())
        timing = json.loads((result / "timing.json").read_text())
        native = metrics["test"]["accuracy"] if "test" in metrics else metrics["final"]["test_accuracy"]
        lines = kernels.read_text().splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("set "))
        header = lines[start].split()
        sets = []
        for line in lines[start + 1:]:
            cells = line.split()
            if len(cells) != len(header) or cells[0] == "set":
                break
            sets.append(dict(zip(header, cells)))
        accuracies = [native] + [float(s["test_accuracy"]) for s in sets]
        spread = (max(accuracies) - min(accuracies)) * 100
        test_moved = max([float(s["test_cells_moved"]) for s in sets] + [0]) * 100
        train_moved = max([float(s["train_cells_moved"]) for s in sets] + [0]) * 100
        seconds = timing["total_seconds"]
        verdict = "ok" if spread <= 1 and test_moved < 2 else "UNSTABLE"
        rows.append((result.name, metrics["identity"]["train_examples"] if "identity" in metrics else "?", metrics["identity"]["epochs"] if "identity" in metrics else "?",
                     native * 100, spread, test_moved, train_moved, seconds, verdict))
    print("| experiment | train examples | epochs | test accuracy | spread (points) | test cells moved | train cells moved | training s | |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, train, epochs, accuracy, spread, test_moved, train_moved, seconds, verdict in rows:
        print(f"| `{name}` | {train} | {epochs} | {accuracy:.2f}% | {spread:.2f} | {test_moved:.2f}% | {train_moved:.2f}% | {seconds:.1f} | {verdict} |")


if __name__ == "__main__":
    main(sys.argv[1])
