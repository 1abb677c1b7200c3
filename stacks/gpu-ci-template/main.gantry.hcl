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
# The wake job's Google identity is declared here too: a workload identity
# pool whose GitHub provider admits the template's repository only, a
# service account that repository's workflows may act as, and a custom
# role with the three permissions wake needs, granted on this one instance.

stack "gpu-ci-template" {
  gcp {
    project = var.project
  }
}

variable "project" {
  type    = string
  default = "gpu-ci-template"
}

variable "repository" {
  type        = string
  description = "The repository whose workflows take the GPU runner and wake it"
  default     = "carducaldeira/GPU-CICD-Pipeline-Template"
}

gcp_workload_identity_pool "github" {
  pool_id      = "github"
  display_name = "GitHub Actions"
  description  = "Keyless Google access for the GPU CI template's workflows"
  github {
    repositories = [var.repository]
  }
}

gcp_service_account "waker" {
  account_id   = "gpu-ci-waker"
  display_name = "GPU CI waker"
  description  = "Starts gpu-ci-runner when a GPU job is queued"
  iam_binding {
    role    = "roles/iam.workloadIdentityUser"
    members = gcp_workload_identity_pool.github.members
  }
}

gcp_custom_role "waker" {
  role_id     = "gantryRunnerWaker"
  title       = "gantry runner waker"
  description = "What gantry runner wake needs on one instance"
  permissions = ["compute.instances.get", "compute.instances.setMetadata", "compute.instances.start"]
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
    repository = var.repository
    labels     = ["gpu-l4"]
    idle_stop  = "20m"
  }
  iam_binding {
    role    = gcp_custom_role.waker.name
    members = [gcp_service_account.waker.member]
  }
}

output "wake" {
  description = "The command the workflow's wake job runs"
  value       = "gantry runner wake ${gpu_node.runner.name} --project ${var.project} --zone ${gpu_node.runner.zone} --queued-timeout 30m"
}

output "workload_identity_provider" {
  description = "wake.yml's google-github-actions/auth workload_identity_provider"
  value       = gcp_workload_identity_pool.github.provider_name
}

output "service_account" {
  description = "wake.yml's google-github-actions/auth service_account"
  value       = gcp_service_account.waker.email
}
