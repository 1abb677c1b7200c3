//! Permission-policy rules: what the role may do. Actions are matched as
//! IAM matches them (case-insensitive, `*` and `?` wildcards); a resource
//! ARN that names every resource of its type (`arn:aws:s3:::*`,
//! `arn:aws:iam::*:role/*`, `arn:aws:iam::*:*`) is as wide as `*`.

use super::{action_matches, is_allow, is_read_action, statements, strings, Finding};
use super::{POLICY_ESCALATION, POLICY_NOT_ACTION, POLICY_NOT_RESOURCE, POLICY_PASSROLE_STAR, POLICY_STAR_ACTION, POLICY_STAR_RESOURCE_WRITE};

/// Actions that let a principal grant itself more than it was given,
/// whatever resource they name (the well-known IAM privilege-escalation
/// paths: Rhino Security Labs' list, and AWS's "Security best practices in
/// IAM"): a role that may put a policy on itself may do anything.
pub(super) const ESCALATION_ACTIONS: &[&str] = &[
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AttachRolePolicy",
    "iam:PutRolePolicy",
    "iam:AttachUserPolicy",
    "iam:PutUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:PutGroupPolicy",
    "iam:AddUserToGroup",
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteRolePermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
    "iam:PutUserPermissionsBoundary",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "sts:GetFederationToken",
];
use serde_json::Value;

/// Whether an action pattern covers every action of every service.
fn is_every_action(pattern: &str) -> bool {
    let service = pattern.split(':').next().unwrap_or(pattern);
    service.contains('*')
}

/// Whether a resource names every resource of its type (or of everything).
pub fn resource_is_wildcard(resource: &str) -> bool {
    if resource == "*" {
        return true;
    }
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    let [_, partition, service, _region, _account, name] = parts[..] else { return resource.starts_with('*') };
    if partition.contains('*') || service.contains('*') {
        return true;
    }
    // S3 names have no type: `bucket` or `bucket/key`.
    if service.eq_ignore_ascii_case("s3") {
        return name.starts_with(['*', '?']);
    }
    // A wildcard in the resource type itself (`function*`, `repository*`,
    // `role*`, `stack*`: IAM's resource grammar matches the `*` across the
    // separator) covers every resource of that type, and of any type it is
    // a prefix of.
    if name.split(['/', ':']).next().is_some_and(|t| t.contains(['*', '?'])) {
        return true;
    }
    // `role/*`, `repository/*`, `function:*`: the type, then nothing but
    // wildcards (`stack/gantry-*/*` and `role/gantry/*` name something).
    let Some((_, after_type)) = name.split_once(['/', ':']) else { return name.starts_with(['*', '?']) };
    name.starts_with(['*', '?']) || after_type.split(['/', ':']).all(|seg| !seg.is_empty() && seg.chars().all(|c| c == '*' || c == '?'))
}

/// Lints a permission policy.
pub fn lint_permissions(doc: &Value, attr: &str, file: Option<&str>) -> Vec<Finding> {
    let mut out = Vec::new();
    for stmt in statements(doc).into_iter().filter(|s| is_allow(s)) {
        if let Some(not) = stmt.get("NotAction") {
            let list = strings(Some(not)).join(", ");
            out.push(Finding::new(POLICY_NOT_ACTION, &format!("every action except {list}"), attr).at(file, "NotAction"));
        }
        if let Some(not) = stmt.get("NotResource") {
            let list = strings(Some(not)).join(", ");
            out.push(Finding::new(POLICY_NOT_RESOURCE, &format!("every resource except {list}"), attr).at(file, "NotResource"));
        }
        let actions = strings(stmt.get("Action"));
        if let Some(a) = actions.iter().find(|a| is_every_action(a)) {
            out.push(Finding::new(POLICY_STAR_ACTION, &format!("\"{a}\""), attr).at(file, &format!("\"{a}\"")));
        } else {
            let escalations: Vec<&str> = ESCALATION_ACTIONS.iter().copied().filter(|e| actions.iter().any(|a| action_matches(a, e))).collect();
            if let Some(first) = escalations.first() {
                let needle = actions.iter().find(|a| action_matches(a, first)).cloned().unwrap_or_default();
                out.push(Finding::new(POLICY_ESCALATION, &escalations.join(", "), attr).at(file, &needle));
            }
        }
        let resources = strings(stmt.get("Resource"));
        let Some(wide) = resources.iter().find(|r| resource_is_wildcard(r)) else { continue };
        let detail = |list: &str| if wide == "*" { list.to_string() } else { format!("{list} on {wide}") };
        let writes: Vec<&String> = actions.iter().filter(|a| !is_every_action(a) && !is_read_action(a)).collect();
        if writes.iter().any(|a| action_matches(a, "iam:PassRole")) {
            out.push(Finding::new(POLICY_PASSROLE_STAR, &detail("iam:PassRole"), attr).at(file, "PassRole"));
        }
        let others: Vec<&str> = writes.iter().filter(|a| !a.eq_ignore_ascii_case("iam:PassRole")).map(|s| s.as_str()).collect();
        if let Some(first) = others.first() {
            out.push(Finding::new(POLICY_STAR_RESOURCE_WRITE, &detail(&others.join(", ")), attr).at(file, first));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_arns_are_wildcards() {
        for r in [
            "*",
            "arn:aws:s3:::*",
            "arn:aws:s3:::*/*",
            "arn:aws:iam::*:role/*",
            "arn:aws:iam::*:*",
            "arn:aws:iam::123456789012:role/*",
            "arn:*:*:*:*:*",
            "arn:aws:ecr:us-west-2:123456789012:repository/*",
            "arn:aws:lambda:*:*:function:*",
            "arn:aws:logs:*:*:log-group:*",
            "arn:aws:*:us-west-2:1:x",
            // A wildcard right after the resource type, without a separator.
            "arn:aws:lambda:us-west-2:123456789012:function*",
            "arn:aws:ecr:us-west-2:123456789012:repository*",
            "arn:aws:dynamodb:us-west-2:123456789012:table*",
            "arn:aws:kms:us-west-2:123456789012:key*",
            "arn:aws:cloudformation:us-west-2:123456789012:stack*",
            "arn:aws:iam::123456789012:role*",
            "arn:aws:iam::123456789012:policy*",
            "arn:aws:iam::123456789012:user*",
            "arn:aws:iam::123456789012:ro?e/x",
        ] {
            assert!(resource_is_wildcard(r), "{r}");
        }
        for r in [
            "arn:aws:s3:::acme-artifacts",
            "arn:aws:s3:::acme-artifacts/*",
            "arn:aws:s3:::acme-*",
            "arn:aws:iam::*:role/gantry/*",
            "arn:aws:ecr:us-west-2:123456789012:repository/cache",
            "arn:aws:lambda:*:*:function:gantry-*",
            "arn:aws:cloudformation:*:*:stack/gantry-*/*",
            "arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/gantry-*",
        ] {
            assert!(!resource_is_wildcard(r), "{r}");
        }
    }
}
