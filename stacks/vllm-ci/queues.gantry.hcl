# vLLM CI's Buildkite queues on AWS: one autoscaling pool per queue
# (previously one hand-maintained Elastic CI Stack each), in two regions,
# each sized by the gantry scaler Lambda; plus the build cache repository.
# No image is named: CPU queues boot Amazon Linux 2023 and GPU queues the
# Deep Learning Base GPU AMI (NVIDIA driver and container toolkit), each for
# its instance types' architecture.

ecr_repository "build-cache" {
  name = "vllm-ci/build-cache"
  lifecycle_policy {
    expire_untagged_after_days = 14
  }
}

# The CPU queues build the images: CUDA kernels compile for most of an hour
# and need the memory (vLLM's ci-infra runs them on r6in.16xlarge, 512 GiB,
# on demand: a spot reclaim would throw the compile away).
#
# Pull requests run code from forks: one job per instance, then the
# instance is gone (the Elastic CI Stack's BuildkiteTerminateInstanceAfterJob).
agent_queue "cpu_queue_premerge" {
  instance_types        = ["r6in.16xlarge"]
  max_size              = 10
  root_volume_gb        = 512
  terminate_after_job   = true
  untrusted_code        = true
  agent_token_parameter = var.agent_token_parameter
  # Fork code may pull the build cache, never push to it.
  instance_policies = ["../../policies/ci-instance-readonly.json"]
  policy_vars       = { cache_repositories = [ecr_repository.build-cache.arn] }
  scale_in_idle     = "10m"
}

agent_queue "cpu_queue_postmerge" {
  instance_types        = ["r6in.16xlarge"]
  max_size              = 10
  root_volume_gb        = 512
  agent_token_parameter = var.agent_token_parameter
  instance_policies     = ["../../policies/ci-instance.json"]
  policy_vars           = { cache_repositories = [ecr_repository.build-cache.arn] }
}

# The GPU queues run every pull request's tests, forks included: the same
# rule as premerge CPU work (pull the cache, never push; one job per
# machine). HF_TOKEN is a read-only token for gated model downloads,
# exported to each job and redacted from its log.
agent_queue "gpu_1_queue" {
  instance_types        = ["g6.4xlarge"]
  max_size              = 208
  root_volume_gb        = 512
  terminate_after_job   = true
  untrusted_code        = true
  agent_token_parameter = var.agent_token_parameter
  agent_secrets         = { HF_TOKEN = "ssm:/vllm-ci/hf-token" } # gated model downloads
  instance_policies     = ["../../policies/ci-instance-readonly.json"]
  waive "GANTRY-QUEUE-002" {
    reason = "HF_TOKEN is a read-only Hugging Face token for gated public models; pull-request tests need it, as in vLLM's own CI"
  }
  policy_vars   = { cache_repositories = [ecr_repository.build-cache.arn] }
  scale_in_idle = "20m"
  scaler {
    disable_scale_in = false
  }
}

agent_queue "gpu_4_queue" {
  instance_types        = ["g6.12xlarge"]
  max_size              = 32
  root_volume_gb        = 512
  terminate_after_job   = true
  untrusted_code        = true
  agent_token_parameter = var.agent_token_parameter
  agent_secrets         = { HF_TOKEN = "ssm:/vllm-ci/hf-token" } # gated model downloads
  instance_policies     = ["../../policies/ci-instance-readonly.json"]
  waive "GANTRY-QUEUE-002" {
    reason = "HF_TOKEN is a read-only Hugging Face token for gated public models; pull-request tests need it, as in vLLM's own CI"
  }
  policy_vars   = { cache_repositories = [ecr_repository.build-cache.arn] }
  scale_in_idle = "20m"
}

# SSM parameters are regional: this queue reads its token in us-east-1, so
# the parameter is created there too (plan checks it exists in the queue's
# region).
agent_queue "arm64_cpu_queue" {
  region                = "us-east-1"
  instance_types        = ["c7g.4xlarge", "c6g.4xlarge"]
  max_size              = 16
  agent_token_parameter = var.agent_token_parameter_us_east_1
}
