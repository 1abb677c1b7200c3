# Seed 004: a GPU CI template on GitHub Actions. A GPU machine on Compute
# Engine runs a self-hosted runner for the tests that need a GPU; it costs
# only while it works:
# - it stops itself after idle_stop without a job (a stopped VM bills its
#   disk only);
# - the workflow starts it: a first job on a GitHub-hosted runner runs
#   `gantry runner wake` (see wake.yml next to this file), which hands the
#   machine a one-job runner configuration and starts it when a job for its
#   labels is queued, and cancels the run if that job is still queued after
#   the queued-job timeout (GitHub's timeout-minutes does not count queue
#   time, the template's timeout.yml did this by hand).

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
  runner {
    repository = "carducaldeira/GPU-CICD-Pipeline-Template"
    labels     = ["gpu-l4"]
    idle_stop  = "20m"
  }
}

output "wake" {
  description = "The command the workflow's wake job runs"
  value       = "gantry runner wake ${gpu_node.runner.name} --project ${var.project} --zone ${gpu_node.runner.zone} --queued-timeout 30m"
}
