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

# The hub's bucket. `ersilia fetch` downloads model zips and reads the
# metadata JSON without credentials, so those two prefixes are public
# (GetObject only; the plan marks opening them as broadening); everything
# else stays private. Replaced versions are kept 30 days.
s3_bucket "models" {
  name                 = var.artifact_bucket
  versioning           = true
  public_read_prefixes = ["models/", "metadata/"]
  public_access_block {
    block_public_policy     = false
    restrict_public_buckets = false
  }
  lifecycle_rule {
    id                           = "replaced-versions"
    noncurrent_expire_after_days = 30
  }
  lifecycle_rule {
    id                                    = "unfinished-uploads"
    abort_incomplete_multipart_after_days = 7
  }
  tags = { project = "ersilia-model-hub" }
}

# One provider per account: stacks/github-oidc owns it.
data "github_oidc_provider" "github" {}

# Each model lives in its own repository (eos + 4 characters, made from
# eos-template by the model-request workflow), and each uploads its zip.
# The role trusts exactly the model repositories GitHub lists now, each by
# name: a model repository created later is a new line in the next plan's
# broadening review, never let in by a wildcard.
data "github_repositories" "models" {
  owner       = "ersilia-os"
  name_prefix = "eos"
  exclude     = ["eos-template"]
}

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
  allow {
    repos    = data.github_repositories.models.full_names
    branches = ["main"]
  }
  policy_files = ["../../policies/s3-artifacts.json"]
  policy_vars = {
    bucket   = s3_bucket.models.name
    prefixes = ["models/*", "metadata/*"]
  }
  max_session_duration = "1h"
}
