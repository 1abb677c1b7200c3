# Seed 000: OpenLLM CI/CD. GitHub Actions builds the base images (with all
# compiled kernels) on self-hosted EC2 GPU runners that exist only while
# there is work, and pushes them; releases push with a role assumed through
# OIDC. The GitHub App (app_id, installation_id, private_key,
# webhook_secret under /openllm/ci/github-app) is created outside gantry;
# its webhook URL is printed by the apply that creates the queue.

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

# On-demand GPU runners for build.yml (`runs-on: [self-hosted, ec2-gpu]`):
# zero instances until a build job is queued. The scaler learns of it from
# the GitHub App's workflow_job webhook (and a poll every minute), registers
# one just-in-time runner per instance, and each instance takes one job and
# goes. They boot the Deep Learning Base GPU AMI (no image named), so builds
# see the GPUs; the instance role pushes the images.
agent_queue "gpu-build" {
  instance_types    = ["g5.12xlarge", "g6.12xlarge"]
  min_size          = 0
  max_size          = 2
  root_volume_gb    = 500
  instance_policies = ["../../policies/ecr-push.json"]
  policy_vars       = { repositories = [ecr_repository.openllm-base.arn] }
  scale_in_idle     = "15m"
  github {
    repository  = "bentoml/OpenLLM"
    labels      = ["ec2-gpu"]
    credentials = "/openllm/ci/github-app"
    # A build waiting over an hour for a GPU is cancelled rather than left queued.
    queued_job_timeout = "1h"
  }
}
