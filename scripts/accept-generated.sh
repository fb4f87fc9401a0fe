#!/usr/bin/env bash
# Approves the generator's received snapshots: each tests/Experiments.Generators.Tests/Snapshots/NAME.received.cs that
# a failed `dotnet test` wrote replaces NAME.verified.cs (renamed, so nothing is half-written), after its diff is shown.
# Approval is a person's step: refused under CI=true, and the tests themselves never approve anything.
# Usage: bash scripts/accept-generated.sh   (repository root or anywhere inside it)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${CI:-}" = true ]; then
  echo "accept-generated: refused under CI=true; approve on your machine and commit the .verified.cs files" >&2
  exit 2
fi
snapshots=tests/Experiments.Generators.Tests/Snapshots
shopt -s nullglob
received=("$snapshots"/*.received.cs)
if [ "${#received[@]}" -eq 0 ]; then
  echo "accept-generated: no received snapshots in $snapshots (run dotnet test tests/Experiments.Generators.Tests first)"
  exit 0
fi
for file in "${received[@]}"; do
  verified="${file%.received.cs}.verified.cs"
  if [ -f "$verified" ]; then diff -u "$verified" "$file" || true; else echo "accept-generated: new snapshot $verified"; fi
  mv "$file" "$verified"
  echo "accept-generated: approved $verified"
done
echo "accept-generated: commit the .verified.cs files with the reason the generated code changed"
