# Seeds 000 and 004: GPU CI runners on Compute Engine. Each runs a CI agent
# for its queue (started by the generated startup script; the token comes
# from Secret Manager). Seed 004's "queued job timeout" workflow is a CI-side
# concern: with an agent per queue, a job waits only while a runner is busy
# or down, which the queue's own timeout settings handle.

stack "gpu-runners" {
  gcp {
    project = var.project
  }
}

variable "project" {
  type    = string
  default = "ml-ci-gpu"
}

gpu_node "l4-runner" {
  zone         = "us-central1-a"
  machine_type = "g2-standard-24"
  accelerator {
    type  = "nvidia-l4"
    count = 2
  }
  boot_disk {
    image   = "projects/deeplearning-platform-release/global/images/family/common-cu124-ubuntu-2204"
    size_gb = 200
    type    = "pd-ssd"
  }
  labels = { team = "ml-ci", seed = "openllm" }
  agent {
    queue        = "gpu_l4_queue"
    token_secret = "bk-agent-token"
    tags         = { gpu = "l4" }
  }
}

gpu_node "a100-runner" {
  zone         = "us-central1-c"
  machine_type = "a2-highgpu-1g"
  spot         = true
  accelerator {
    type  = "nvidia-tesla-a100"
    count = 1
  }
  boot_disk {
    image   = "projects/deeplearning-platform-release/global/images/family/common-cu124-ubuntu-2204"
    size_gb = 300
  }
  labels = { team = "ml-ci", seed = "gpu-ci-template" }
  agent {
    queue        = "gpu_a100_queue"
    token_secret = "bk-agent-token"
    tags         = { gpu = "a100" }
  }
}
