#!/usr/bin/env bash
# Benchmark (not part of the test suite): builds driftgate (release unless DRIFTGATE_BENCH_PROFILE=dev),
# starts moto, and runs scripts/bench.py. Arguments go to bench.py (--groups N, --state-mb M, --azure-nsgs N,
# --gcp-firewalls N, --mixed-scale X: the 10,000-resource mixed estate at X = 1, 0 skips it;
# --history-records N: `driftgate metrics` over N history records, 0 skips it; --accounts N
# --account-regions R --account-resources M: N accounts read with --aws-role, 0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
profile=${DRIFTGATE_BENCH_PROFILE:-release}
export MOTO_PID_FILE
MOTO_PID_FILE=$(mktemp -t driftgate-moto-pid.XXXXXX)
trap 'scripts/moto.sh stop' EXIT
if [ "$profile" = release ]; then
  cargo build --release --quiet --bin driftgate
  bin="$CARGO_TARGET_DIR/release/driftgate"
else
  cargo build --quiet --bin driftgate
  bin="$CARGO_TARGET_DIR/debug/driftgate"
fi
endpoint=$(scripts/moto.sh start)
"$venv_dir/bin/python" scripts/bench.py "$bin" "$endpoint" "$@"
