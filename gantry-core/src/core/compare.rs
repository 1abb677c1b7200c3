//! How a field's desired and live values compare, when the cloud stores a
//! value in another spelling than the one the user wrote. Pure; the kinds
//! declare a [`Compare`] next to each field.
//!
//! - Google Cloud returns references as full URLs
//!   (`https://www.googleapis.com/compute/v1/projects/P/global/networks/default`)
//!   or relative paths (`projects/P/global/networks/default`) where the user
//!   wrote a bare name (`default`); all three name the same resource.
//! - IAM stores an account principal `123456789012` as
//!   `arn:aws:iam::123456789012:root` (IAM User Guide, "AWS account principals").
//! - Some values are case-insensitive on the server (hex thumbprints).

use serde_json::Value;

/// A comparison rule for one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// Values must be identical.
    Exact,
    /// Google Cloud resource references: bare name, relative path and full
    /// URL of the same resource are equal (strings anywhere in the value).
    GcpRef,
    /// AWS account principals: a 12-digit account id equals its root ARN.
    AwsPrincipal,
    /// Strings compare without regard to ASCII case.
    CaseInsensitive,
}

/// Whether `desired` and `live` are the same value under `rule`.
pub fn equal(rule: Compare, desired: &Value, live: &Value) -> bool {
    match (desired, live) {
        (Value::String(a), Value::String(b)) => strings_equal(rule, a, b),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| equal(rule, x, y)),
        (Value::Object(a), Value::Object(b)) => a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| equal(rule, v, w))),
        _ => desired == live,
    }
}

fn strings_equal(rule: Compare, a: &str, b: &str) -> bool {
    match rule {
        Compare::Exact => a == b,
        Compare::CaseInsensitive => a.eq_ignore_ascii_case(b),
        Compare::AwsPrincipal => aws_principal(a) == aws_principal(b),
        Compare::GcpRef => gcp_ref_equal(a, b),
    }
}

/// The canonical spelling of an AWS principal: account ids become root ARNs.
pub fn aws_principal(p: &str) -> String {
    if p.len() == 12 && p.bytes().all(|c| c.is_ascii_digit()) {
        format!("arn:aws:iam::{p}:root")
    } else {
        p.to_string()
    }
}

/// A Google Cloud reference split into (collection path segments, name),
/// with any `https://…/compute/v1/` or `//…googleapis.com/` prefix removed.
fn gcp_parts(r: &str) -> Vec<&str> {
    let mut rest = r;
    if let Some(i) = rest.find("://") {
        rest = &rest[i + 3..];
        // Drop the host and, for Compute, the API version segment.
        rest = rest.split_once('/').map(|(_, p)| p).unwrap_or("");
        for prefix in ["compute/v1/", "compute/beta/", "v1/", "v2/"] {
            if let Some(p) = rest.strip_prefix(prefix) {
                rest = p;
                break;
            }
        }
    } else if let Some(p) = rest.strip_prefix("//") {
        rest = p.split_once('/').map(|(_, p)| p).unwrap_or("");
    }
    rest.split('/').filter(|s| !s.is_empty()).collect()
}

/// Whether two references name the same resource: the trailing segments
/// both spellings carry must agree (so `default` equals
/// `projects/p/global/networks/default`, but `projects/a/.../x` differs
/// from `projects/b/.../x`).
pub fn gcp_ref_equal(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (pa, pb) = (gcp_parts(a), gcp_parts(b));
    if pa.is_empty() || pb.is_empty() {
        return false;
    }
    pa.iter().rev().zip(pb.iter().rev()).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gcp_references_in_every_spelling() {
        let full = "https://www.googleapis.com/compute/v1/projects/p/global/networks/default";
        let rel = "projects/p/global/networks/default";
        for (a, b) in [("default", full), ("default", rel), (rel, full), ("global/networks/default", full)] {
            assert!(gcp_ref_equal(a, b), "{a} vs {b}");
            assert!(gcp_ref_equal(b, a), "{b} vs {a}");
        }
        assert!(!gcp_ref_equal("default", "https://www.googleapis.com/compute/v1/projects/p/global/networks/ci"));
        assert!(!gcp_ref_equal("projects/a/global/networks/x", "projects/b/global/networks/x"));
        assert!(!gcp_ref_equal("", "default"));
        let sub = "https://www.googleapis.com/compute/v1/projects/p/regions/us-east5/subnetworks/default";
        assert!(gcp_ref_equal("regions/us-east5/subnetworks/default", sub));
        assert!(!gcp_ref_equal("regions/us-west1/subnetworks/default", sub));
        assert!(gcp_ref_equal("nvidia-l4", "https://compute.googleapis.com/compute/v1/projects/p/zones/z/acceleratorTypes/nvidia-l4"));
    }

    #[test]
    fn values_compare_through_structure() {
        let d = json!({"network": "default", "list": ["a"]});
        let l = json!({"network": "projects/p/global/networks/default", "list": ["projects/p/x/a"]});
        assert!(equal(Compare::GcpRef, &d, &l));
        assert!(!equal(Compare::Exact, &d, &l));
        assert!(!equal(Compare::GcpRef, &json!({"a": "x"}), &json!({"a": "x", "b": "y"})));
        assert!(equal(Compare::GcpRef, &json!(3), &json!(3)));
        assert!(!equal(Compare::GcpRef, &json!(3), &json!("3")));
    }

    #[test]
    fn aws_account_principals() {
        assert!(equal(Compare::AwsPrincipal, &json!("123456789012"), &json!("arn:aws:iam::123456789012:root")));
        assert!(!equal(Compare::AwsPrincipal, &json!("123456789012"), &json!("arn:aws:iam::210987654321:root")));
        assert!(equal(Compare::AwsPrincipal, &json!(["arn:aws:iam::1:role/x"]), &json!(["arn:aws:iam::1:role/x"])));
        assert_eq!(aws_principal("12345"), "12345");
    }

    #[test]
    fn case_rules() {
        assert!(equal(Compare::CaseInsensitive, &json!(["ABCDEF"]), &json!(["abcdef"])));
        assert!(!equal(Compare::Exact, &json!("A"), &json!("a")));
    }
}
