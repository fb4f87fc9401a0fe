#!/usr/bin/env bash
# Approves full-profile CPU snapshots of long experiments on a small machine: for each experiment, the run and its
# repeat train at the same time in two separate processes of one thread each (both cores busy, and the thread count is
# part of the result's identity, so both runs have the same one), then `accept --repeated-elsewhere` approves the
# snapshot only if the two are bit-for-bit identical. Cut off, it continues where it stopped: every run resumes from
# its last checkpoint (`run --resume`), and an experiment already approved is skipped.
#
# Usage (repository root, after `dotnet build -c Release experiments/Experiments.Catalog`):
#   bash scripts/approve-full.sh mnist-branches-6-842 mnist-branches-2 ...
# Environment: WORK (default results/approve-full) holds the two runs' results and checkpoints; THREADS (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$#" -ge 1 ] || { echo "usage: $0 EXPERIMENT [EXPERIMENT ...]" >&2; exit 2; }
work="${WORK:-results/approve-full}"
threads="${THREADS:-1}"
snapshots=tests/Experiments.Catalog.Tests/Snapshots/full/cpu
# The runs use a private copy of the build, so that rebuilding the repository while they train cannot touch them.
bin="$work/bin"
if [ ! -f "$bin/experiments.dll" ]; then
  mkdir -p "$work"
  rm -rf "$bin.tmp"
  cp -r experiments/Experiments.Catalog/bin/Release/net10.0 "$bin.tmp" && mv "$bin.tmp" "$bin"
fi
cli=(dotnet "$bin/experiments.dll")
config=experiments/Experiments.Catalog/experiments.yaml

for name in "$@"; do
  if [ -f "$snapshots/$name.verified.txt" ] && [ ! -f "$snapshots/$name.received.txt" ]; then
    echo "$name: approved already ($snapshots/$name.verified.txt)"
    continue
  fi
  echo "$name: run and repeat, $threads thread(s) each, started $(date -u +%H:%M:%S)"
  "${cli[@]}" run "$name" --profile full --device cpu --threads "$threads" --config "$config" --resume \
    --out "$work/run" --snapshot "$snapshots/$name.received.txt" > "$work/$name.run.log" 2>&1 &
  first=$!
  "${cli[@]}" run "$name" --profile full --device cpu --threads "$threads" --config "$config" --resume \
    --out "$work/repeat" --snapshot "$snapshots/$name.repeat.txt" > "$work/$name.repeat.log" 2>&1 &
  second=$!
  status=0
  wait "$first" || status=$?
  wait "$second" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "$name: a run failed (exit $status); see $work/$name.run.log and $work/$name.repeat.log" >&2
    exit "$status"
  fi
  echo "$name: both finished $(date -u +%H:%M:%S); approving"
  "${cli[@]}" accept "$snapshots/$name.received.txt" --repeated-elsewhere
done
