#!/usr/bin/env bash
# Runs driftgate check from the action's inputs (GitHub Action, step 2). The exit code is
# driftgate's: 0 pass/warn, 1 blocking drift (0 with soft-fail), 2 could not check. driftgate
# itself writes the job summary, the annotations and the verdict/blocking outputs of a completed
# check; this adds the report paths, and on exit 2 what driftgate cannot: it prints nothing on
# stdout then, so the verdict (`error`), the summary and the error annotation come from here.
set -uo pipefail

output() { [ -n "${GITHUB_OUTPUT:-}" ] && echo "$1=$2" >>"$GITHUB_OUTPUT"; }
summary() { [ -n "${GITHUB_STEP_SUMMARY:-}" ] && printf '%s\n' "$@" >>"$GITHUB_STEP_SUMMARY"; }
# Workflow command data: %, CR and LF must be escaped or the message is cut.
escape() { local s=${1//%/%25}; s=${s//$'\r'/%0D}; printf '%s' "${s//$'\n'/%0A}"; }

# The sticky pull request comment: on pull_request events when the pr-comment input is on. A
# comment that cannot be posted (a fork's read-only token) is a warning: the verdict stands.
comment_on=""
if [ "${INPUT_PR_COMMENT:-true}" = true ] && [ -n "${DRIFTGATE_PR_NUMBER:-}" ] && [ -n "${GITHUB_REPOSITORY:-}" ]; then
  comment_on="github:$GITHUB_REPOSITORY#$DRIFTGATE_PR_NUMBER"
fi
comment() {
  [ -n "$comment_on" ] && [ -s "$1" ] && command -v driftgate >/dev/null || return 0
  local said
  if ! said=$(GITHUB_TOKEN=${INPUT_GITHUB_TOKEN:-${GITHUB_TOKEN:-}} driftgate comment --body "$1" --on "$comment_on" --key "${INPUT_COMMENT_KEY:-driftgate}" 2>&1); then
    echo "::warning title=driftgate::$(escape "could not post the pull request comment: ${said#driftgate: error: } (give the job \`permissions: pull-requests: write\`, or set pr-comment: false)")"
  fi
}

fail() {
  echo "::error title=driftgate::$(escape "$1")"
  output verdict error
  summary "### ❌ driftgate: ERROR — the check could not be completed" "" '```' "$1" '```' ""
  if [ -n "$comment_on" ] && [ -n "${out_dir:-}" ]; then
    printf '%s\n' "### ❌ driftgate: ERROR — the check could not be completed" "" '```' "$1" '```' \
      "" "Nothing was compared, so nothing passes: fix the cause above and run the job again." >"$out_dir/driftgate-comment.md"
    comment "$out_dir/driftgate-comment.md"
  fi
  exit 2
}

args=(check)
tickets=0
while read -r s; do [ -n "$s" ] && args+=(--state "$s"); done <<<"${INPUT_STATES:-}"
while read -r t; do [ -n "$t" ] && args+=(--tickets "$t") && tickets=1; done <<<"${INPUT_TICKETS:-}"
while read -r p; do [ -n "$p" ] && args+=(--policy "$p"); done <<<"${INPUT_POLICY_FILES:-}"
# The label and the window have defaults in action.yml: they mean something only with a tracker
# (driftgate refuses them without one). An approval label given without a tracker is passed on,
# so that the mistake is an error rather than a silently dropped requirement.
if [ "$tickets" = 1 ]; then
  [ -n "${INPUT_TICKET_LABEL:-}" ] && args+=(--ticket-label "$INPUT_TICKET_LABEL")
  [ -n "${INPUT_TICKET_MAX_AGE:-}" ] && args+=(--ticket-max-age "$INPUT_TICKET_MAX_AGE")
fi
[ -n "${INPUT_REQUIRE_APPROVAL:-}" ] && args+=(--require-approval "$INPUT_REQUIRE_APPROVAL")
[ -n "${INPUT_SOURCE_DIR:-}" ] && args+=(--source-dir "$INPUT_SOURCE_DIR")
[ "${INPUT_FAIL_ON_EMPTY:-false}" = true ] && args+=(--fail-on-empty)
[ -n "${INPUT_HISTORY:-}" ] && args+=(--history "$INPUT_HISTORY")
[ -n "${INPUT_AWS_ROLE:-}" ] && args+=(--aws-role "$INPUT_AWS_ROLE")
# Passed on even without a role, so that the mistake is an error, not a dropped setting.
[ -n "${INPUT_AWS_EXTERNAL_ID:-}" ] && args+=(--aws-external-id "$INPUT_AWS_EXTERNAL_ID")
[ -n "${INPUT_AWS_SOURCE:-}" ] && args+=(--aws-source "$INPUT_AWS_SOURCE")

case "${INPUT_SOFT_FAIL:-false}" in
  true | false) ;;
  *) fail "input soft-fail: '${INPUT_SOFT_FAIL}' is not true or false" ;;
esac

out_dir=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/driftgate
mkdir -p "$out_dir"
# Remove reports of an earlier run in the same job: an output must name this run's file or none.
rm -f "$out_dir"/driftgate.sarif "$out_dir"/driftgate.json "$out_dir"/driftgate-junit.xml \
  "$out_dir"/driftgate.md "$out_dir"/driftgate-codequality.json "$out_dir"/driftgate-comment.md
# Indexed arrays only: macOS ships bash 3.2, which has no associative arrays.
names=()
paths=()
formats=${INPUT_FORMATS-sarif json}
for f in ${formats//,/ }; do
  f=$(printf '%s' "$f" | tr '[:upper:]' '[:lower:]')
  case "$f" in
    sarif) file=driftgate.sarif ;;
    json) file=driftgate.json ;;
    junit) file=driftgate-junit.xml ;;
    markdown) file=driftgate.md ;;
    gitlab) file=driftgate-codequality.json ;;
    *) fail "input formats: unknown format '$f' (sarif, json, junit, markdown, gitlab; separated by spaces or commas)" ;;
  esac
  case " ${names[*]:-} " in *" $f "*) continue ;; esac
  names+=("$f")
  paths+=("$out_dir/$file")
  args+=(--output "$f=$out_dir/$file")
done

# The comment is the Markdown report, written for it whatever the formats input says.
[ -n "$comment_on" ] && args+=(--output "markdown=$out_dir/driftgate-comment.md")

if ! command -v driftgate >/dev/null; then
  fail "driftgate is not installed: the install step did not put it on PATH"
fi

# stderr is shown as it comes (progress of a long run) and kept for the error message.
err_file="$out_dir/driftgate.stderr"
# (A pipeline of stderr alone: stdout goes around it through fd 3; the pipeline waits for tee.)
{ driftgate "${args[@]}" 2>&1 1>&3 3>&- | tee "$err_file" >&2 3>&-; } 3>&1
code=${PIPESTATUS[0]}

i=0
while [ "$i" -lt "${#names[@]}" ]; do
  [ -f "${paths[$i]}" ] && output "${names[$i]}-file" "${paths[$i]}"
  i=$((i + 1))
done

case "$code" in
  0 | 1) comment "$out_dir/driftgate-comment.md" ;;
esac

case "$code" in
  0) exit 0 ;;
  1)
    if [ "${INPUT_SOFT_FAIL:-false}" = true ]; then
      echo "::warning title=driftgate::blocking drift found; soft-fail is on, so the step passes (the verdict output says block)"
      exit 0
    fi
    exit 1
    ;;
  *)
    message=$(sed -n 's/^driftgate: error: //p' "$err_file")
    [ -n "$message" ] || message=$(grep -v '^[[:space:]]*$' "$err_file" | grep -v '^driftgate: the check could not' | head -n 5)
    [ -n "$message" ] || message="driftgate exited with code $code and said nothing"
    fail "$message"
    ;;
esac
