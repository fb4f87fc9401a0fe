#!/usr/bin/env bash
# On the GPU machine (PyTorch installed, no .NET): runs experiments twice each, in separate processes, several side
# by side, and packs the snapshots of both runs, the logs, the timings and the machine's versions into one archive.
# Made for short visits: it starts no new experiment after --budget seconds, and what it did not start is listed
# in the archive for the next visit. `gpu/unpack.sh ARCHIVE` (on a machine with .NET) turns the archive into
# received and repeat snapshots that `accept --repeated-elsewhere` approves.
#
#   bash gpu/run.sh --app app.tar.xz --data mnist.tar.xz [--data fashion-mnist.tar.xz] --profile smoke --parallel 4 --budget 480 --out gpu-smoke.tgz NAME...
#
# --app: the published app (gpu/pack.sh), an archive or a folder; --data (repeatable): a dataset archive of gpu/pack.sh
# (datasets/<name>/) or such a folder; --device (default cuda); --threads (default 2); LIBTORCH_DIR overrides where LibTorch is taken from
# (default: the PyTorch install's torch/lib).
set -euo pipefail
app="" profile="smoke" device="cuda" threads=2 parallel=4 budget=480 out="gpu-results.tgz"
names=() data=()
while [ $# -gt 0 ]; do
  case "$1" in
    --app) app="$2"; shift 2;; --data) data+=("$2"); shift 2;; --profile) profile="$2"; shift 2;;
    --device) device="$2"; shift 2;; --threads) threads="$2"; shift 2;; --parallel) parallel="$2"; shift 2;;
    --budget) budget="$2"; shift 2;; --out) out="$2"; shift 2;;
    -*) echo "unknown option $1" >&2; exit 2;; *) names+=("$1"); shift;;
  esac
done
[ -n "$app" ] && [ ${#data[@]} -gt 0 ] && [ ${#names[@]} -gt 0 ] || { sed -n '2,14p' "$0"; exit 2; }

work="$(mktemp -d)"
unpack() { if [ -d "$1" ]; then echo "$1"; else mkdir -p "$work/$2" && tar xf "$1" -C "$work/$2" && echo "$work/$2"; fi; }
app_dir="$(unpack "$app" app)"
# Each --data archive holds datasets/<name>/: together they are the dataset cache the runs read.
data_dir="$work/data"; mkdir -p "$data_dir"
for archive in "${data[@]}"; do if [ -d "$archive" ]; then cp -r "$archive/." "$data_dir/"; else tar xf "$archive" -C "$data_dir"; fi; done
libtorch="${LIBTORCH_DIR:-$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')}"
kind="$([ "${device%%:*}" = cuda ] && echo cuda || echo cpu)"
results="$work/results"; snapshots="$results/snapshots/$profile/$kind"; logs="$results/logs"
mkdir -p "$snapshots" "$logs"
printf 'experiment\trun\texit\tseconds\n' > "$results/timings.tsv"

# One run: its own process, its own output folder; the exit code and wall time go to timings.tsv.
one_run() {
  local name="$1" which="$2" suffix start code
  suffix="$([ "$which" = first ] && echo received || echo repeat)"
  start=$(date +%s.%N)
  set +e
  EXPERIMENTS_CACHE="$data_dir" LD_LIBRARY_PATH="$libtorch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$app_dir/experiments" run "$name" \
    --profile "$profile" --device "$device" --threads "$threads" --out "$work/out/$name-$which" \
    --snapshot "$snapshots/$name.$suffix.txt" > "$logs/$name.$which.log" 2>&1
  code=$?
  set -e
  printf '%s\t%s\t%s\t%.1f\n' "$name" "$which" "$code" "$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" >> "$results/timings.tsv"
}

started=() skipped=()
for name in "${names[@]}"; do
  if [ "$SECONDS" -ge "$budget" ]; then skipped+=("$name"); continue; fi
  # Both runs of an experiment at once, in separate processes: the repeat approval needs.
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
  one_run "$name" first & one_run "$name" second &
  started+=("$name")
done
wait || true

{ nvidia-smi 2>&1 || echo "nvidia-smi: not available"; } > "$results/nvidia-smi.txt"
{ python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())' 2>&1 || echo "torch: not importable"
  echo "libtorch $libtorch"; uname -a; nproc; } > "$results/versions.txt"
printf '%s\n' "${skipped[@]:-}" | sed '/^$/d' > "$results/not-started.txt"
tar czf "$out" -C "$results" .
echo "started ${#started[@]}, not started ${#skipped[@]} (budget ${budget} s); archive: $out"
cat "$results/timings.tsv"
rm -rf "$work"
