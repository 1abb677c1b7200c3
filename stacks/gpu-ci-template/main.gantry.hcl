# Seed 004: a GPU CI template. A GPU machine on Compute Engine runs the CI
# agent for the GPU queue; tests that need a GPU target that queue.
#
# The template's "queued job timeout" (a workflow that cancels jobs stuck in
# the queue) is out of scope for gantry: it is a CI-side policy. What gantry
# owns is that the runner exists and serves its queue; the agent's startup
# script restarts it with the machine.

stack "gpu-ci-template" {
  gcp {
    project = var.project
  }
}

variable "project" {
  type    = string
  default = "gpu-ci-template"
}

gpu_node "runner" {
  name         = "gpu-ci-runner"
  zone         = "us-central1-a"
  machine_type = "g2-standard-8"
  accelerator {
    type  = "nvidia-l4"
    count = 1
  }
  boot_disk {
    image   = "projects/deeplearning-platform-release/global/images/family/common-cu124-ubuntu-2204"
    size_gb = 200
    type    = "pd-ssd"
  }
  labels = { purpose = "gpu-ci" }
  agent {
    queue        = "gpu_queue"
    token_secret = "ci-agent-token"
    tags         = { gpu = "l4" }
  }
}
