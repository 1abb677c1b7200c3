# Seed 002: vLLM CI. Buildkite agent queues on AWS (queues.gantry.hcl) and
# TPU fleets on Google Cloud (tpu.gantry.hcl), in one reviewed stack.

stack "vllm-ci" {
  aws {
    region        = "us-west-2"
    extra_regions = ["us-east-1"]
  }
  gcp {
    project = var.gcp_project
    zones   = ["us-west4-a", "us-east5-b"]
  }
}

variable "agent_token_parameter" {
  type        = string
  default     = "/bk_agent_token_cluster_ci"
  description = "SSM parameter (us-west-2) holding the Buildkite agent token"
}

variable "agent_token_parameter_us_east_1" {
  type        = string
  default     = "/bk_agent_token_cluster_ci"
  description = "The same token's SSM parameter in us-east-1 (parameters are regional)"
}

variable "gcp_project" {
  type    = string
  default = "vllm-ci-tpu"
}
