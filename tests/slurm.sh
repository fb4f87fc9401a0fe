#!/usr/bin/env bash
# Work units on a real Slurm: a single-node cluster on this machine (tests/slurm/start-cluster.sh), the catalog
# published as a self-contained app (nodes need no SDK), a job array of 4 smoke units through `experiments slurm
# --submit`, `collect`, and the collected results compared bit for bit with the same units run here one after another.
# The units are mnist-lstm-50-sgd on 20,000 training images for 3 epochs (about 8 s each on one core).
# Then one task is cancelled mid-run (scancel on its array index): collect lists it as missing, a resubmission runs
# only that task (resuming from its checkpoint), and the results again equal the local run's.
# Prints the array's wall time against the sequential run's. Where no cluster can run here (not root, no apt-get), it
# fails unless EXPERIMENTS_SLURM_SKIP=1 asks for the skip; a cluster that should start and does not always fails.
# Usage: bash tests/slurm.sh [WORK_DIR]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
[ -n "${1:-}" ] || trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }

status=0
# The cluster's daemons need root: as root, or through passwordless sudo (a CI runner's user); the jobs run as this user.
if [ "$(id -u)" != 0 ] && sudo -n true 2>/dev/null; then
  sudo -n bash "$repo/tests/slurm/start-cluster.sh" || status=$?
else
  bash "$repo/tests/slurm/start-cluster.sh" || status=$?
fi
if [ "$status" = 3 ]; then
  [ "${EXPERIMENTS_SLURM_SKIP:-}" = 1 ] || fail "no single-node cluster can run here (reason above); set EXPERIMENTS_SLURM_SKIP=1 to skip this test on purpose"
  echo "slurm: SKIPPED, as EXPERIMENTS_SLURM_SKIP=1 asks (reason above)"; exit 0
fi
[ "$status" = 0 ] || fail "starting the single-node cluster failed"

echo "== publish the catalog (self-contained, cpu backend)"
dotnet build "$repo/experiments/Experiments.Catalog" -nologo -v quiet
start=$SECONDS
dotnet "$repo/experiments/Experiments.Catalog/bin/Debug/net10.0/experiments.dll" publish --out "$work/app" | tail -1
echo "   took $((SECONDS - start)) s"
app="$work/app/experiments"
[ -x "$app" ] || fail "no app at $app"

cat > "$work/experiments.yaml" <<'YAML'
profiles:
  slow:
    train_examples: 20000
    test_examples: 1000
    max_epochs: 3
YAML

# Waits (bounded) until job $1 has left the queue.
wait_job() {
  local id="$1" limit="$2" waited=0
  while [ -n "$(squeue -h -j "$id" -o %i 2>/dev/null || true)" ]; do
    [ "$waited" -lt "$limit" ] || { scancel "$id" || true; fail "job $id still queued or running after $limit s: $(squeue -j "$id" 2>&1)"; }
    sleep 1; waited=$((waited + 1))
  done
}

# Same bits: every unit's snapshot and metrics, and the aggregate.
same_results() {
  local a="$1" b="$2" name="$3" seeds="$4"
  for k in $(seq "$seeds"); do
    for f in snapshot.txt metrics.json misclassified.json; do
      cmp -s "$a/$name/seed-$k/$f" "$b/$name/seed-$k/$f" || fail "$name seed $k: $f differs between $a and $b"
    done
  done
  cmp -s "$a/$name/aggregate.json" "$b/$name/aggregate.json" || fail "$name: aggregate.json differs between $a and $b"
}

cd "$work"
echo "== a 4-task job array: mnist-lstm-50-sgd, seeds 1-4, one thread each"
start=$(date +%s%N)
submitted="$("$app" slurm mnist-lstm-50-sgd --seeds 4 --profile slow --threads 1 --out "$work/cluster" --app "$app" --config "$work/experiments.yaml" --submit)"
echo "$submitted" | sed 's/^/   /'
job="$(tail -n 1 <<<"$submitted")"
[[ "$job" =~ ^[0-9]+$ ]] || fail "slurm --submit did not print a job id"
wait_job "$job" 600
array_wall=$(( ($(date +%s%N) - start) / 1000000 ))
"$app" collect "$work/cluster" || fail "collect found missing units: $(cat "$work"/cluster/.slurm/logs/*.out | tail -20)"
[ "$(ls "$work/cluster/.slurm/logs" | wc -l)" = 4 ] || fail "expected one log per task"

echo "== the same units here, one after another"
start=$(date +%s%N)
"$app" run mnist-lstm-50-sgd --seeds 4 --profile slow --threads 1 --out "$work/local" --config "$work/experiments.yaml" > "$work/local.log"
local_wall=$(( ($(date +%s%N) - start) / 1000000 ))
same_results "$work/cluster" "$work/local" mnist-lstm-50-sgd 4
echo "slurm: 4-unit array $((array_wall / 1000)).$((array_wall % 1000 / 100)) s wall (submit to last task), sequential $((local_wall / 1000)).$((local_wall % 1000 / 100)) s, on $(nproc) CPUs"

echo "== a cancelled task, then a resubmission of only that task"
submitted="$("$app" slurm mnist-lstm-50-sgd --seeds 2 --profile slow --threads 1 --out "$work/cancel" --app "$app" --config "$work/experiments.yaml" --submit)"
job="$(tail -n 1 <<<"$submitted")"
[[ "$job" =~ ^[0-9]+$ ]] || fail "slurm --submit did not print a job id"
log="$work/cancel/.slurm/logs/1-$job.out"
waited=0
until [ -f "$log" ] && grep -q "epoch 1:" "$log"; do
  [ "$waited" -lt 300 ] || fail "task 1 of job $job logged no epoch within 300 s"
  sleep 1; waited=$((waited + 1))
done
scancel "${job}_1"  # SIGTERM to the task (then SIGKILL after KillWait): it saves a checkpoint at the next batch
wait_job "$job" 300
# Printed only after the checkpoint is written, with the batch it stopped at.
grep -q "stopped at epoch [0-9]*, batch [0-9]* of [0-9]*; saved .*: continue with run --resume" "$log" || fail "the cancelled task did not stop at a batch boundary and save a checkpoint: $(tail -5 "$log")"
status=0
"$app" collect "$work/cancel" > "$work/collect.log" || status=$?
cat "$work/collect.log"
[ "$status" = 1 ] || fail "collect should exit 1 with a unit missing (exit $status)"
grep -q "missing: task 1: mnist-lstm-50-sgd/seed-2" "$work/collect.log" || fail "collect does not name the missing unit"
grep -q -- "--unit-index 1" "$work/collect.log" || fail "collect does not print the command that reruns the task"
resubmitted="$("$app" slurm --job-dir "$work/cancel/.slurm" --submit)"
echo "$resubmitted" | sed 's/^/   /'
grep -q -- "--array=1 " <<<"$resubmitted" || fail "the resubmission should run task 1 alone"
job2="$(tail -n 1 <<<"$resubmitted")"
wait_job "$job2" 600
grep -q "resum" "$work/cancel/.slurm/logs/1-$job2.out" || fail "the resubmitted task did not resume from its checkpoint: $(head -5 "$work/cancel/.slurm/logs/1-$job2.out")"
[ ! -f "$work/cancel/.slurm/logs/0-$job2.out" ] || fail "the resubmission ran task 0 again"
"$app" collect "$work/cancel" || fail "collect after the resubmission found units missing"
"$app" run mnist-lstm-50-sgd --seeds 2 --profile slow --threads 1 --out "$work/cancel-local" --config "$work/experiments.yaml" > "$work/cancel-local.log"
same_results "$work/cancel" "$work/cancel-local" mnist-lstm-50-sgd 2
echo "slurm: the array's results, and the cancelled-then-resubmitted ones, equal the local runs bit for bit"
