#!/usr/bin/env bash
# Runs driftgate check from the action's inputs (GitHub Action, step 2). The exit code is
# driftgate's: 0 pass/warn, 1 blocking drift, 2 could not check. driftgate itself writes the job
# summary, the annotations and the verdict/blocking/report outputs; this adds sarif-file.
set -uo pipefail

args=(check)
while read -r s; do [ -n "$s" ] && args+=(--state "$s"); done <<<"${INPUT_STATES:-}"
while read -r t; do [ -n "$t" ] && args+=(--tickets "$t"); done <<<"${INPUT_TICKETS:-}"
while read -r p; do [ -n "$p" ] && args+=(--policy "$p"); done <<<"${INPUT_POLICY_FILES:-}"
[ -n "${INPUT_TICKET_LABEL:-}" ] && args+=(--ticket-label "$INPUT_TICKET_LABEL")
[ -n "${INPUT_TICKET_MAX_AGE:-}" ] && args+=(--ticket-max-age "$INPUT_TICKET_MAX_AGE")
[ -n "${INPUT_REQUIRE_APPROVAL:-}" ] && args+=(--require-approval "$INPUT_REQUIRE_APPROVAL")
[ -n "${INPUT_SOURCE_DIR:-}" ] && args+=(--source-dir "$INPUT_SOURCE_DIR")

out_dir=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/driftgate
mkdir -p "$out_dir"
sarif_file=""
for f in ${INPUT_FORMATS:-sarif json}; do
  case "$f" in
    sarif) sarif_file="$out_dir/driftgate.sarif"; args+=(--output "sarif=$sarif_file") ;;
    json) args+=(--output "json=$out_dir/driftgate.json") ;;
    junit) args+=(--output "junit=$out_dir/driftgate-junit.xml") ;;
    markdown) args+=(--output "markdown=$out_dir/driftgate.md") ;;
    gitlab) args+=(--output "gitlab=$out_dir/driftgate-codequality.json") ;;
    *) echo "::error::driftgate: unknown format '$f' (sarif, json, junit, markdown, gitlab)"; exit 2 ;;
  esac
done

driftgate "${args[@]}"
code=$?
[ -n "${GITHUB_OUTPUT:-}" ] && echo "sarif-file=$sarif_file" >>"$GITHUB_OUTPUT"
exit "$code"
