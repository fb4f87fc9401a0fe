#!/usr/bin/env bash
# Here (with .NET): puts a gpu/run.sh archive's snapshots beside the approved ones as NAME.received.txt and
# NAME.repeat.txt, shows the timings, and says what to approve and what is left for the next visit.
#   bash gpu/unpack.sh ARCHIVE [SNAPSHOT_ROOT]   (default: tests/Experiments.Catalog.Tests/Snapshots)
set -euo pipefail
archive="$1"
root="${2:-$(cd "$(dirname "$0")/.." && pwd)/tests/Experiments.Catalog.Tests/Snapshots}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
tar xzf "$archive" -C "$work"
mkdir -p "$root"
cp -r "$work/snapshots/." "$root/"
echo "== timings"; column -t "$work/timings.tsv" 2>/dev/null || cat "$work/timings.tsv"
failed="$(awk -F'\t' 'NR > 1 && $3 != 0 { print $1 " (" $2 " run, exit " $3 ")" }' "$work/timings.tsv")"
[ -z "$failed" ] || { echo "== runs that failed (see the logs in the archive)"; echo "$failed"; }
echo "== versions"; cat "$work/versions.txt"
if [ -s "$work/not-started.txt" ]; then echo "== not started (pass them to the next visit)"; cat "$work/not-started.txt"; fi
echo "== approve: dotnet run --project experiments/Experiments.Catalog -- accept $root --repeated-elsewhere"
