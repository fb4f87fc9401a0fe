#!/usr/bin/env bash
# Reviewing result changes in a pull request, for any CI system (the GitHub workflow calls exactly this).
#
#   scripts/pr-review.sh test
#       Runs the tests; when approved snapshots do not match, writes the review to $EXPERIMENTS_REVIEW_DIR
#       (review.md, review.html, review-images/ and the received snapshots) with `experiments review`. Sets
#       changed=true in $GITHUB_OUTPUT when there is something to review. Exits with the tests' status.
#   scripts/pr-review.sh comment REVIEW.md
#       Creates the pull request's review comment, or updates it in place when one exists (found by its hidden
#       marker), through `gh api`: one comment per pull request, not one per push. Needs GH_TOKEN, REPOSITORY
#       (owner/name) and PULL_REQUEST (number); ARTIFACT_URL, if set, is linked for the pictures.
#
# Settings (environment): EXPERIMENTS_TEST_COMMAND (default: dotnet test), EXPERIMENTS_CLI (default: dotnet run
# --project experiments/Experiments.Catalog --), EXPERIMENTS_SNAPSHOTS (default: tests/Experiments.Catalog.Tests/Snapshots),
# EXPERIMENTS_REVIEW_DIR (default: review).
set -euo pipefail
marker='<!-- experiments-review -->'
review_dir="${EXPERIMENTS_REVIEW_DIR:-review}"
snapshots="${EXPERIMENTS_SNAPSHOTS:-tests/Experiments.Catalog.Tests/Snapshots}"
read -r -a cli <<<"${EXPERIMENTS_CLI:-dotnet run --project experiments/Experiments.Catalog --}"

output() { if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1" >> "$GITHUB_OUTPUT"; fi; }

case "${1:-}" in
  test)
    status=0
    bash -c "${EXPERIMENTS_TEST_COMMAND:-dotnet test}" || status=$?
    mapfile -t received < <(find "$snapshots" -name '*.received.txt' -not -path '*/bin/*' -not -path '*/obj/*' | sort)
    if [ "${#received[@]}" -eq 0 ]; then
      echo "pr-review: no received snapshots: nothing to review (tests exited with $status)"
      output changed=false
      exit "$status"
    fi
    mkdir -p "$review_dir/received"
    "${cli[@]}" review "$snapshots" --md "$review_dir/review.md"
    for file in "${received[@]}"; do
      mkdir -p "$review_dir/received/$(dirname "${file#"$snapshots"/}")"
      cp "$file" "$review_dir/received/${file#"$snapshots"/}"
    done
    echo "pr-review: ${#received[@]} received snapshots reviewed in $review_dir/review.md"
    output changed=true
    exit "$status"
    ;;
  comment)
    file="${2:?usage: pr-review.sh comment REVIEW.md}"
    : "${REPOSITORY:?set REPOSITORY=owner/name}" "${PULL_REQUEST:?set PULL_REQUEST to the pull request number}"
    body="$(cat "$file")"
    case "$body" in *"$marker"*) ;; *) body="$marker"$'\n'"$body" ;; esac
    if [ -n "${ARTIFACT_URL:-}" ]; then
      body+=$'\n\n'"Pictures, the HTML page and the received snapshots: the \`experiment-review\` artifact of [this run]($ARTIFACT_URL)."
    fi
    ids="$(gh api --paginate "repos/$REPOSITORY/issues/$PULL_REQUEST/comments" --jq ".[] | select(.body | contains(\"$marker\")) | .id")"
    existing="${ids%%$'\n'*}"
    if [ -n "$existing" ]; then
      gh api -X PATCH "repos/$REPOSITORY/issues/comments/$existing" -f body="$body" --jq .html_url
      echo "pr-review: updated comment $existing"
    else
      gh api -X POST "repos/$REPOSITORY/issues/$PULL_REQUEST/comments" -f body="$body" --jq .html_url
      echo "pr-review: created a comment"
    fi
    ;;
  *)
    echo "usage: scripts/pr-review.sh test | comment REVIEW.md" >&2
    exit 2
    ;;
esac
