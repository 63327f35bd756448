# shellcheck shell=bash disable=SC2034  # sourced: its variables are used by the scripts that source it
# Sourced by the other scripts: where build output and the moto virtualenv live.
#
# Build output goes to a cache directory outside the clone when one can be used, so that a fresh
# clone (CI) reuses earlier builds of the AWS SDK crates (minutes of compile time); otherwise it
# falls back to ./target and ./.venv inside the clone. CARGO_TARGET_DIR, if already set, wins.

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache_root=${DRIFTGATE_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/driftgate}
if mkdir -p "$cache_root" 2>/dev/null && [ -w "$cache_root" ]; then
  : "${CARGO_TARGET_DIR:=$cache_root/target}"
  venv_dir=${DRIFTGATE_VENV:-$cache_root/venv}
else
  : "${CARGO_TARGET_DIR:=$repo_root/target}"
  venv_dir=${DRIFTGATE_VENV:-$repo_root/.venv}
fi
export CARGO_TARGET_DIR
# The version of moto the tests were written against (its behaviour gaps are documented in
# docs/testing.md); bump deliberately.
moto_version=5.2.5
