#!/usr/bin/env bash
# Plain shell: apply only when driftgate passes.
#   exit 0 from driftgate: no drift, or only warnings / drift covered by a break-glass ticket
#   exit 1: blocking drift: fix it in code or revert the console change, or open a ticket
#           (`driftgate ticket open --tickets ... --state ...`) if it is an emergency
#   exit 2: the check could not be made (credentials, API errors, bad state): never a pass
set -euo pipefail
terraform state pull > .driftgate-state.json
driftgate check --state .driftgate-state.json "$@"
terraform apply
