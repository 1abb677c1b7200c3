//! AWS managed policies that grant administrator or full-service access.
//! Their documents are not in the stack's files, so they are judged by name:
//! a maintained list of the admin-like ones (from the AWS Managed Policy
//! Reference), plus AWS's naming convention for the rest (`...FullAccess`,
//! `...AdministratorAccess...`, `...PowerUser...`, `...AdminAccess`).
//! Customer-managed policies (an account id instead of `aws`) are the
//! account's own and are not judged here.

use super::{Finding, POLICY_ADMIN_MANAGED};

/// Admin-like AWS managed policies (path included where AWS uses one).
pub const ADMIN_LIKE: &[&str] = &[
    "AdministratorAccess",
    "PowerUserAccess",
    "IAMFullAccess",
    "job-function/SystemAdministrator",
    "job-function/NetworkAdministrator",
    "job-function/DatabaseAdministrator",
    "AWSOrganizationsFullAccess",
    "AmazonS3FullAccess",
    "AmazonEC2FullAccess",
    "AWSLambda_FullAccess",
    "AWSLambdaFullAccess",
    "AmazonEC2ContainerRegistryFullAccess",
    "AmazonEC2ContainerRegistryPowerUser",
    "AWSCloudFormationFullAccess",
    "AmazonSSMFullAccess",
    "SecretsManagerReadWrite",
    "AWSKeyManagementServicePowerUser",
    "AmazonDynamoDBFullAccess",
    "AmazonVPCFullAccess",
    "AmazonRDSFullAccess",
    "AWSCodeBuildAdminAccess",
    "AdministratorAccess-Amplify",
    "AdministratorAccess-AWSElasticBeanstalk",
    "AmazonSageMakerFullAccess",
    "AWSCloudTrail_FullAccess",
    "CloudWatchFullAccess",
];

/// The AWS-managed policy name (with path) of an ARN, if it is one.
fn aws_managed_name(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(':')?;
    rest.strip_prefix("iam::aws:policy/")
}

/// Why a managed policy is admin-like, if it is.
pub fn admin_like(arn: &str) -> Option<&'static str> {
    let name = aws_managed_name(arn)?;
    if ADMIN_LIKE.iter().any(|n| n.eq_ignore_ascii_case(name)) {
        return Some("on gantry's list of admin-like AWS managed policies");
    }
    let base = name.rsplit('/').next().unwrap_or(name);
    ["FullAccess", "AdministratorAccess", "PowerUser", "AdminAccess"]
        .iter()
        .any(|w| base.to_ascii_lowercase().contains(&w.to_ascii_lowercase()))
        .then_some("named like AWS's full-access policies")
}

/// The permission rules that make a managed policy admin-like. Not
/// GANTRY-POLICY-002 (writes on `*`): many AWS policies write on `*` where
/// the service scopes the call to the caller (AmazonSSMManagedInstanceCore's
/// ssm:UpdateInstanceInformation), which a name-free judgement cannot tell.
const ADMIN_RULES: &[&str] =
    &[super::POLICY_STAR_ACTION, super::POLICY_PASSROLE_STAR, super::POLICY_NOT_ACTION, super::POLICY_NOT_RESOURCE, super::POLICY_ESCALATION];

/// Findings for one managed policy judged by its document (read at plan
/// time): every action on every service, iam:PassRole on every role,
/// NotAction/NotResource grants, privilege escalation — as one
/// GANTRY-POLICY-006 finding naming the policy and what it grants.
pub fn lint_managed_document(arn: &str, doc: &serde_json::Value, attr: &str) -> Option<Finding> {
    let found: Vec<Finding> = super::lint_permissions(doc, attr, None).into_iter().filter(|f| ADMIN_RULES.contains(&f.rule)).collect();
    if found.is_empty() {
        return None;
    }
    // A finding's message ends in "(detail)": what the document grants.
    let what: Vec<String> =
        found.iter().filter_map(|f| f.message.rsplit_once(" (").map(|(_, d)| format!("{} by {}", d.trim_end_matches(')'), f.rule))).collect();
    Some(Finding::new(POLICY_ADMIN_MANAGED, &format!("{arn}: its document grants {}", what.join("; ")), attr).at(None, arn))
}

/// Findings for a block's `managed_policy_arns`.
pub fn lint_managed(arns: &[&str], attr: &str) -> Vec<Finding> {
    arns.iter().filter_map(|a| admin_like(a).map(|why| Finding::new(POLICY_ADMIN_MANAGED, &format!("{a}: {why}"), attr).at(None, a))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_like_policies_are_known_by_list_and_by_name() {
        assert!(admin_like("arn:aws:iam::aws:policy/AdministratorAccess").is_some());
        assert!(admin_like("arn:aws-us-gov:iam::aws:policy/job-function/SystemAdministrator").is_some());
        assert!(admin_like("arn:aws:iam::aws:policy/AmazonKinesisFullAccess").is_some(), "by naming convention");
        assert!(admin_like("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly").is_none());
        assert!(admin_like("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore").is_none());
        assert!(admin_like("arn:aws:iam::123456789012:policy/AdministratorAccess").is_none(), "customer-managed");
    }
}
