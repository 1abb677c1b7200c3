# Seed 001: MLOps training/deployment images pushed from GitHub Actions to
# ECR in eu-central-1 through OIDC federation (no static AWS keys).
#
# Before: a hand-written trust policy with sub = "repo:<ORG>/<REPO>:*".
# Here: only main, develop and v* tags of the one repository may push.

stack "mlops-images" {
  aws {
    region              = "eu-central-1"
    allowed_account_ids = [var.aws_account_id]
  }
}

variable "aws_account_id" {
  type        = string
  description = "The account the images live in: plan and apply refuse credentials of any other (GANTRY_VAR_aws_account_id in CI)"
}

variable "github_repo" {
  type        = string
  default     = "acme-ml/mlops-pipelines"
  description = "OWNER/NAME of the repository whose workflows push images"
}

locals {
  images = ["triton-training-tools", "mlops-deployment-tools", "vllm-training-tools", "vllm-deployment-tools"]
}

ecr_repository "image" {
  for_each             = toset(local.images)
  name                 = each.key
  image_tag_mutability = "MUTABLE" # workflows push :latest next to the version tag
  scan_on_push         = true
  # Only develop-<sha> builds are pruned: latest (the serving pods' init
  # container pulls vllm-deployment-tools:latest), v* releases and custom
  # tags are kept whatever their number.
  lifecycle_policy {
    expire_untagged_after_days = 7
    keep_last_tagged           = 30
    tag_prefixes               = ["develop-"]
  }
  tags = { project = "mlops", image = each.key }
}

# One provider per account: stacks/github-oidc owns it.
data "github_oidc_provider" "github" {}

ci_role "ecr-push" {
  description = "GitHub Actions image pushes for ${var.github_repo}"
  provider    = data.github_oidc_provider.github
  allow {
    repo     = var.github_repo
    branches = ["main", "develop"]
    tags     = ["v*"]
  }
  policy_files = ["../../policies/ecr-push.json"]
  policy_vars = {
    repositories = [for r in ecr_repository.image : r.arn]
  }
  max_session_duration = "1h"
  tags                 = { project = "mlops" }
}

# The seed's workflows read this ARN from the AWS_ROLE_ARN secret.
output "aws_role_arn" {
  value       = ci_role.ecr-push.arn
  description = "Store as the repository's AWS_ROLE_ARN secret"
}
