# Seed 000: OpenLLM CI/CD. GitHub Actions builds the base images (with all
# compiled kernels) on self-hosted GPU runners that exist only while there
# is work, and pushes them with a role it assumes through OIDC.

stack "openllm-ci" {
  aws {
    region = "us-east-1"
  }
}

ecr_repository "openllm-base" {
  name                 = "bentoml/openllm-base"
  image_tag_mutability = "IMMUTABLE"
  lifecycle_policy {
    expire_untagged_after_days = 7
    keep_last_tagged           = 50
  }
}

# One provider per account: stacks/github-oidc owns it.
data "github_oidc_provider" "github" {}

ci_role "image-push" {
  description = "OpenLLM base image pushes from build.yml"
  provider    = data.github_oidc_provider.github
  allow {
    repo     = "bentoml/OpenLLM"
    branches = ["main"]
    tags     = ["v*"]
  }
  policy_files = ["../../policies/ecr-push.json"]
  policy_vars  = { repositories = [ecr_repository.openllm-base.arn] }
}

# On-demand GPU builders: zero instances until a build is queued; they boot
# the Deep Learning Base GPU AMI (no image named), so builds see the GPUs.
agent_queue "gpu-build" {
  instance_types        = ["g5.12xlarge", "g6.12xlarge"]
  min_size              = 0
  max_size              = 2
  root_volume_gb        = 500
  agent_token_parameter = "/openllm/ci/agent-token"
  instance_policies     = ["../../policies/ecr-push.json"]
  policy_vars           = { repositories = [ecr_repository.openllm-base.arn] }
  scale_in_idle         = "15m"
}
