# Seed 003: Ersilia model hub CI. Workflows upload model sources and
# metadata to S3 without static AWS keys: they assume a role through GitHub
# OIDC that may write only the hub's artifact prefixes.

stack "ersilia-ci" {
  aws {
    region = "eu-west-1"
  }
}

variable "artifact_bucket" {
  type    = string
  default = "ersilia-models"
}

# One provider per account: stacks/github-oidc owns it.
data "github_oidc_provider" "github" {}

ci_role "model-artifacts" {
  description = "Ersilia model uploads (upload-model-to-s3, metadata sync)"
  provider    = data.github_oidc_provider.github
  allow {
    repo     = "ersilia-os/ersilia"
    branches = ["master"]
  }
  allow {
    repo         = "ersilia-os/eos-template"
    environments = ["model-publish"]
  }
  policy_files = ["../../policies/s3-artifacts.json"]
  policy_vars = {
    bucket   = var.artifact_bucket
    prefixes = ["models/*", "metadata/*"]
  }
  max_session_duration = "1h"
}
