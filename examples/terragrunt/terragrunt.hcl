# Terragrunt: run driftgate before every `apply` of this unit. A non-zero exit (1: blocking drift,
# 2: could not check) stops the apply.
terraform {
  before_hook "driftgate" {
    commands = ["apply"]
    execute  = ["sh", "-c", "terraform state pull > .driftgate-state.json && driftgate check --state .driftgate-state.json --tickets jira:OPS"]
  }
}
