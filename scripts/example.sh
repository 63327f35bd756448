#!/usr/bin/env bash
# Builds driftgate and runs it on the bundled example (examples/quickstart) against moto, a local
# AWS emulator, so no AWS account is needed: first on the estate as Terraform left it (exit 0),
# then after a console change that opens SSH to the world (exit 1, blocking), then after a console
# fix, with the patch `driftgate fix` writes for it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

export MOTO_PID_FILE
MOTO_PID_FILE=$(mktemp -t driftgate-moto-pid.XXXXXX)
work=$(mktemp -d -t driftgate-example.XXXXXX)
trap 'scripts/moto.sh stop; rm -rf "$work"' EXIT

echo "== building driftgate (the first build compiles the AWS SDK: several minutes)"
cargo build --quiet --bin driftgate
bin="$CARGO_TARGET_DIR/debug/driftgate"
endpoint=$(scripts/moto.sh start)

# driftgate reads the same environment as Terraform's AWS provider.
export AWS_ENDPOINT_URL="$endpoint" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
unset AWS_PROFILE AWS_SESSION_TOKEN

echo
echo "== 1. the estate as Terraform left it"
"$venv_dir/bin/python" examples/quickstart/seed.py "$endpoint" "$work/clean.tfstate"
set +e
"$bin" check --state "$work/clean.tfstate" --source-dir examples/quickstart
clean=$?
echo
echo "== 2. after a console change"
"$venv_dir/bin/python" examples/quickstart/seed.py "$endpoint" "$work/drifted.tfstate" --drift
"$bin" check --state "$work/drifted.tfstate" --source-dir examples/quickstart --output "json=$work/drift.json"
drifted=$?
echo
echo "== 3. after a console fix the code does not know (the next apply would revert it)"
"$venv_dir/bin/python" examples/quickstart/seed.py "$endpoint" "$work/fixed.tfstate" --console-fix
"$bin" check --quiet --state "$work/fixed.tfstate" --source-dir examples/quickstart
echo
echo "== 4. the patch that writes the console fix into the Terraform (driftgate fix | git apply)"
"$bin" fix --quiet --state "$work/fixed.tfstate" --source-dir examples/quickstart > "$work/fix.patch"
fixed=$?
cat "$work/fix.patch"
set -e
grep -q '^-  egress {' "$work/fix.patch"
echo
echo "exit codes: clean estate $clean (expected 0), after the console change $drifted (expected 1)," \
  "driftgate fix $fixed (expected 0)"
[ "$clean" -eq 0 ] && [ "$drifted" -eq 1 ] && [ "$fixed" -eq 0 ]
