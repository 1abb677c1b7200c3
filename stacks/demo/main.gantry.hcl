# The demo stack: a few ECR repositories for an ML CI fleet.
# Try: gantry validate stacks/demo && gantry plan stacks/demo

stack "demo" {
  aws {
    region = var.region
  }
}

variable "region" {
  type        = string
  default     = "us-west-2"
  description = "AWS region for the demo"
}

variable "python_versions" {
  type    = list(string)
  default = ["3.11", "3.12"]
}

locals {
  team = "ml-ci"
  tags = { team = local.team, managed-by = "gantry" }
}

# Build cache: immutable tags, untagged layers expire after two weeks.
ecr_repository "test-cache" {
  image_tag_mutability = "IMMUTABLE"
  scan_on_push         = true
  lifecycle_policy {
    expire_untagged_after_days = 14
    keep_last_tagged           = 100
  }
  tags = local.tags
}

# One CI image repository per Python version.
ecr_repository "ci-image" {
  for_each = var.python_versions
  name     = "ci/python-${replace(each.key, ".", "")}"
  lifecycle_policy {
    keep_last_tagged = 50
  }
  tags = merge(local.tags, { python = each.value })
}
