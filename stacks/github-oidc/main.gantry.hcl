# The account's GitHub Actions OIDC provider. IAM allows one provider per
# URL in an account, so one stack owns it and every CI stack looks it up:
#
#   data "github_oidc_provider" "github" {}
#   ci_role "push" { provider = data.github_oidc_provider.github ... }
#
# Apply this stack once per account, before the stacks that look it up.

stack "github-oidc" {
  aws {
    region = "us-east-1"
  }
}

github_oidc_provider "github" {
  tags = { owner = "platform" }
}
