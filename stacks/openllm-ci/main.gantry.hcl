# Seed 000: OpenLLM CI/CD. GitHub Actions builds the base images (with all
# compiled kernels) on self-hosted EC2 GPU runners that exist only while
# there is work, and publishes them to ECR Public
# (public.ecr.aws/<alias>/bentoml/openllm, pulled by every Bento built with
# openllm). Pushes go through a role assumed with OIDC that only main and
# release tags can assume: the runners themselves cannot push, because
# labelled pull requests build on them too. The GitHub App (app_id, installation_id, private_key,
# webhook_secret under /openllm/ci/github-app) is created outside gantry;
# its webhook URL is printed by the apply that creates the queue.

stack "openllm-ci" {
  aws {
    region = "us-east-1"
  }
}

ecr_public_repository "openllm" {
  name              = "bentoml/openllm"
  description       = "OpenLLM base images with every compiled serving kernel"
  about_text        = "Base images built by bentoml/OpenLLM's build.yml on each push to main and each release tag."
  usage_text        = "Bentos built with `openllm` use these images; extend `ghcr.io/bentoml/openllm` for custom kernels."
  architectures     = ["x86-64"]
  operating_systems = ["Linux"]
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
  policy_files = ["../../policies/ecr-public-push.json"]
  policy_vars  = { repositories = [ecr_public_repository.openllm.arn] }
}

# On-demand GPU runners for build.yml (`runs-on: [self-hosted, ec2-gpu]`):
# zero instances until a build job is queued. The scaler learns of it from
# the GitHub App's workflow_job webhook (and a poll every minute), registers
# one just-in-time runner per instance, and each instance takes one job and
# goes. They boot the Deep Learning Base GPU AMI (no image named), so builds
# see the GPUs. Pull requests labelled `00 - EC2 Build` run here too, so the
# machines are untrusted: no push rights (the push step assumes
# ci_role.image-push, which a pull request cannot), one job per machine.
agent_queue "gpu-build" {
  instance_types = ["g5.12xlarge", "g6.12xlarge"]
  min_size       = 0
  max_size       = 2
  root_volume_gb = 500
  untrusted_code = true
  scale_in_idle  = "15m"
  github {
    repository  = "bentoml/OpenLLM"
    labels      = ["ec2-gpu"]
    credentials = "/openllm/ci/github-app"
    # A build waiting over an hour for a GPU is cancelled rather than left queued.
    queued_job_timeout = "1h"
  }
}
