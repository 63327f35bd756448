#!/usr/bin/env bash
# The whole test suite, from a fresh machine: formatting, lints, unit tests, and integration tests
# that run the real driftgate binary against moto (a real AWS API implementation) on loopback.
# Installs moto into a virtualenv, starts it on a free port, and stops it on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

export MOTO_PID_FILE
MOTO_PID_FILE=$(mktemp -t driftgate-moto-pid.XXXXXX)
trap 'scripts/moto.sh stop' EXIT

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings
echo "== starting moto"
DRIFTGATE_MOTO_URL=$(scripts/moto.sh start)
export DRIFTGATE_MOTO_URL
# The virtualenv's Python has jsonschema (a moto dependency): the SARIF test validates with it.
export DRIFTGATE_PYTHON="$venv_dir/bin/python"
echo "moto at $DRIFTGATE_MOTO_URL"
echo "== installing the CI linters (actionlint, ShellCheck, check-jsonschema, gitlab-ci-local)"
scripts/linters.sh install
eval "$(scripts/linters.sh env)"
echo "== cargo test"
cargo test --all-targets "$@"
