# vLLM CI's TPU fleets on Google Cloud. Each TPU VM runs a
# Buildkite agent for its queue and keeps builds and the Docker cache on a
# 512 GB data disk. The agent token and the jobs' HF_TOKEN are read from
# Secret Manager at boot (the nodes' service account needs
# roles/secretmanager.secretAccessor on both); Docker on the agents logs in
# to Artifact Registry with that service account.

variable "v5e_nodes" {
  type    = number
  default = 8
}

variable "v6e_nodes" {
  type    = number
  default = 8
}

variable "tpu_registry" {
  type        = string
  description = "The Artifact Registry host the TPU jobs pull and push images through"
  default     = "us-docker.pkg.dev"
}

locals {
  labels = { team = "vllm-ci", managed-by = "gantry" }
}

tpu_node "v5e" {
  count            = var.v5e_nodes
  name             = "tpu-v5e-ci-${count.index}"
  zone             = "us-west4-a"
  accelerator_type = "v5litepod-1"
  runtime_version  = "v2-alpha-tpuv5-lite"
  data_disk {
    size_gb = 512
    type    = "pd-balanced"
  }
  labels = merge(local.labels, { accelerator = "v5e" })
  agent {
    queue             = "tpu_v5_queue"
    token_secret      = "bk-agent-token"
    tags              = { accelerator = "tpu-v5e" }
    secrets           = { HF_TOKEN = "hf-token" }
    docker_registries = [var.tpu_registry]
  }
}

tpu_node "v6e" {
  count            = var.v6e_nodes
  name             = "tpu-v6e-ci-${count.index}"
  zone             = "us-east5-b"
  accelerator_type = "v6e-1"
  runtime_version  = "v2-alpha-tpuv6e"
  data_disk {
    size_gb = 512
    type    = "hyperdisk-balanced"
  }
  labels = merge(local.labels, { accelerator = "v6e" })
  agent {
    queue             = "tpu_v6e_queue"
    token_secret      = "bk-agent-token"
    tags              = { accelerator = "tpu-v6e" }
    secrets           = { HF_TOKEN = "hf-token" }
    docker_registries = [var.tpu_registry]
  }
}
