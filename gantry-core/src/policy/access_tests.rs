//! The broadening corpus: each widening change is reported, each narrowing
//! one is not.

use super::*;
use serde_json::json;

fn policy(stmts: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": stmts})
}

fn role(stmts: Value, session_hours: u64, boundary: Option<&str>, managed: &[&str]) -> Access {
    let mut a = Access::default();
    a.add_policy(&policy(stmts), "");
    a.limit("max session duration", session_hours * 3600, format!("{session_hours}h"));
    if let Some(b) = boundary {
        a.guards.insert("permissions boundary".into(), b.into());
    }
    a.extras.extend(managed.iter().map(|m| format!("managed policy {m}")));
    a
}

fn base() -> Access {
    role(
        json!([
            {"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:BatchGetImage"], "Resource": "arn:aws:ecr:us-west-2:1:repository/cache"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/ci", "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}},
            {"Effect": "Deny", "Action": "ecr:DeleteRepository", "Resource": "*"}
        ]),
        1,
        Some("arn:aws:iam::1:policy/ci-boundary"),
        &[],
    )
}

#[test]
fn every_widening_change_is_reported() {
    let cases: Vec<(&str, Access, &str)> = vec![
        (
            "a new action",
            role(
                json!([
                    {"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:BatchGetImage", "ecr:DeleteRepository"], "Resource": "arn:aws:ecr:us-west-2:1:repository/cache"},
                    {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/ci", "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}},
                    {"Effect": "Deny", "Action": "ecr:DeleteRepository", "Resource": "*"}
                ]),
                1,
                Some("arn:aws:iam::1:policy/ci-boundary"),
                &[],
            ),
            "may now ecr:deleterepository on arn:aws:ecr:us-west-2:1:repository/cache",
        ),
        (
            "a Deny removed",
            role(
                json!([
                    {"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:BatchGetImage"], "Resource": "arn:aws:ecr:us-west-2:1:repository/cache"},
                    {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/ci", "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}
                ]),
                1,
                Some("arn:aws:iam::1:policy/ci-boundary"),
                &[],
            ),
            "no longer denies ecr:deleterepository on *",
        ),
        (
            "a PassRole condition removed",
            role(
                json!([
                    {"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:BatchGetImage"], "Resource": "arn:aws:ecr:us-west-2:1:repository/cache"},
                    {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/ci"},
                    {"Effect": "Deny", "Action": "ecr:DeleteRepository", "Resource": "*"}
                ]),
                1,
                Some("arn:aws:iam::1:policy/ci-boundary"),
                &[],
            ),
            "may now iam:passrole on arn:aws:iam::1:role/ci",
        ),
        (
            "a boundary swapped",
            {
                let mut a = base();
                a.guards.insert("permissions boundary".into(), "arn:aws:iam::aws:policy/PowerUserAccess".into());
                a
            },
            "permissions boundary changes from arn:aws:iam::1:policy/ci-boundary to arn:aws:iam::aws:policy/PowerUserAccess",
        ),
        (
            "a boundary removed",
            {
                let mut a = base();
                a.guards.clear();
                a
            },
            "loses its permissions boundary arn:aws:iam::1:policy/ci-boundary",
        ),
        (
            "the session 1h to 12h",
            {
                let mut a = base();
                a.limit("max session duration", 12 * 3600, "12h".into());
                a
            },
            "max session duration grows from 1h to 12h",
        ),
        (
            "a managed policy",
            {
                let mut a = base();
                a.extras.insert("managed policy arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".into());
                a
            },
            "gains managed policy arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
        ),
        (
            "port 22 from anywhere",
            {
                let mut a = base();
                a.extras.insert("ingress tcp 22 from 0.0.0.0/0".into());
                a
            },
            "gains ingress tcp 22 from 0.0.0.0/0",
        ),
        (
            "a resource widened by wildcard",
            {
                let mut a = base();
                a.add_policy(&policy(json!([{"Effect": "Allow", "Action": "ecr:PutImage", "Resource": "arn:aws:ecr:us-west-2:1:repository/*"}])), "");
                a
            },
            "may now ecr:putimage on arn:aws:ecr:us-west-2:1:repository/*",
        ),
        (
            "a repository policy opened to anyone",
            {
                let mut a = base();
                a.add_policy(&policy(json!([{"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}])), "repository");
                a
            },
            "anyone may now ecr:batchgetimage on *",
        ),
    ];
    let mut flagged = 0;
    for (what, after, says) in &cases {
        let lines = widening(&base(), after);
        assert!(lines.iter().any(|l| l == says), "{what}: {lines:?}");
        flagged += 1;
    }
    eprintln!("broadening corpus: widening flagged {flagged}/{}", cases.len());
}

#[test]
fn narrowing_and_unchanged_access_is_quiet() {
    let cases: Vec<(&str, Access)> = vec![
        ("unchanged", base()),
        (
            "an action removed, a condition added, a Deny added",
            role(
                json!([
                    {"Effect": "Allow", "Action": "ecr:PutImage", "Resource": "arn:aws:ecr:us-west-2:1:repository/cache", "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
                    {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/ci", "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}},
                    {"Effect": "Deny", "Action": "ecr:DeleteRepository", "Resource": "*"},
                    {"Effect": "Deny", "Action": "ecr:PutLifecyclePolicy", "Resource": "*"}
                ]),
                1,
                Some("arn:aws:iam::1:policy/ci-boundary"),
                &[],
            ),
        ),
        ("a shorter session", {
            let mut a = base();
            a.limit("max session duration", 1800, "30m".into());
            a
        }),
        ("the same grant spelled in other case", {
            let mut a = base();
            a.add_policy(&policy(json!([{"Effect": "Allow", "Action": "ECR:PutImage", "Resource": "arn:aws:ecr:us-west-2:1:repository/cache"}])), "");
            a
        }),
    ];
    for (what, after) in &cases {
        assert_eq!(widening(&base(), after), Vec::<String>::new(), "{what}");
    }
    eprintln!("broadening corpus: narrowing or unchanged quiet {}/{}", cases.len(), cases.len());
}

#[test]
fn not_elements_read_as_what_they_let_in() {
    let mut a = Access::default();
    a.add_policy(&policy(json!([{"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:r"}])), "");
    assert_eq!(widening(&Access::default(), &a), ["may now any action except iam:* on any resource except arn:r"]);
}
