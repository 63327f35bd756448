# Terragrunt: driftgate before every `plan` and `apply` of this unit, with the binary Terragrunt
# runs (TG_CTX_TF_PATH: terraform or tofu, as `terraform_binary` or the default picks). A non-zero
# exit (1: blocking drift, 2: could not check) stops the plan or apply. The state is pulled into
# the unit's working directory (Terragrunt's cache copy of the module), and findings point at the
# module's source there.
terraform {
  before_hook "driftgate" {
    commands = ["plan", "apply"]
    execute = [
      "sh", "-c",
      "\"$${TG_CTX_TF_PATH:-terraform}\" state pull > .driftgate-state.json && driftgate check --state .driftgate-state.json --source-dir . --tickets jira:OPS",
    ]
  }
}
