//! A bucket's settings as typed values: what the block asks for, what the
//! driver reads back, and the one place each becomes S3's shape. The
//! desired and live states hold them serialised, so they compare field by
//! field.

use aws_sdk_s3::types as s3;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Default encryption of new objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Encryption {
    /// `AES256` (SSE-S3) or `aws:kms` (SSE-KMS).
    pub algorithm: String,
    pub kms_key: Option<String>,
}

impl Default for Encryption {
    /// What S3 applies to every bucket unless told otherwise (since January 2023).
    fn default() -> Self {
        Encryption { algorithm: "AES256".into(), kms_key: None }
    }
}

/// The bucket's Block Public Access settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PublicAccess {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccess {
    /// A bucket without a Block Public Access configuration.
    pub(crate) fn open() -> Self {
        PublicAccess { block_public_acls: false, ignore_public_acls: false, block_public_policy: false, restrict_public_buckets: false }
    }

    /// Every switch on: what S3 gives a new bucket.
    pub(crate) fn blocked() -> Self {
        PublicAccess { block_public_acls: true, ignore_public_acls: true, block_public_policy: true, restrict_public_buckets: true }
    }
}

/// One lifecycle rule, scoped by key prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LifecycleRule {
    pub id: String,
    pub prefix: String,
    pub expire_after_days: Option<i32>,
    pub noncurrent_expire_after_days: Option<i32>,
    pub abort_incomplete_multipart_after_days: Option<i32>,
}

impl LifecycleRule {
    /// S3's rule as read. A rule filtered on tags or sizes has no place in
    /// this shape; its prefix (if any) is kept and the difference shows as
    /// an update that rewrites the rule.
    pub(crate) fn from_sdk(r: &s3::LifecycleRule) -> Self {
        #[allow(deprecated)] // the top-level Prefix is the legacy way of scoping a rule; S3 still returns it for old rules
        let prefix = r.filter().and_then(|f| f.prefix()).or(r.prefix()).unwrap_or_default().to_string();
        LifecycleRule {
            id: r.id().unwrap_or_default().to_string(),
            prefix,
            expire_after_days: r.expiration().and_then(|e| e.days()),
            noncurrent_expire_after_days: r.noncurrent_version_expiration().and_then(|e| e.noncurrent_days()),
            abort_incomplete_multipart_after_days: r.abort_incomplete_multipart_upload().and_then(|a| a.days_after_initiation()),
        }
    }

    pub(crate) fn to_sdk(&self) -> Result<s3::LifecycleRule, aws_smithy_types::error::operation::BuildError> {
        let mut b = s3::LifecycleRule::builder()
            .id(&self.id)
            .status(s3::ExpirationStatus::Enabled)
            .filter(s3::LifecycleRuleFilter::builder().prefix(&self.prefix).build());
        if let Some(d) = self.expire_after_days {
            b = b.expiration(s3::LifecycleExpiration::builder().days(d).build());
        }
        if let Some(d) = self.noncurrent_expire_after_days {
            b = b.noncurrent_version_expiration(s3::NoncurrentVersionExpiration::builder().noncurrent_days(d).build());
        }
        if let Some(d) = self.abort_incomplete_multipart_after_days {
            b = b.abort_incomplete_multipart_upload(s3::AbortIncompleteMultipartUpload::builder().days_after_initiation(d).build());
        }
        b.build()
    }
}

/// Lifecycle rules in a stable order (S3 keeps them as written; the order
/// carries no meaning).
pub(crate) fn sorted(mut rules: Vec<LifecycleRule>) -> Vec<LifecycleRule> {
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    rules
}

/// The statement id of the public read gantry writes for `public_read_prefixes`.
pub(crate) const PUBLIC_READ_SID: &str = "GantryPublicRead";

/// A prefix as a key pattern: `models/` and `models/*` both mean every key
/// under models/.
pub(crate) fn prefix_pattern(prefix: &str) -> String {
    format!("{}*", prefix.trim_end_matches('*'))
}

/// The bucket policy: the file's statements plus, for public prefixes, one
/// statement letting anyone get their objects (and nothing else).
pub(crate) fn bucket_policy(name: &str, file: Option<&Value>, public_prefixes: &[String]) -> Option<Value> {
    let mut statements: Vec<Value> = match file.and_then(|f| f.get("Statement")) {
        Some(Value::Array(s)) => s.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    };
    if !public_prefixes.is_empty() {
        let resources: Vec<String> = public_prefixes.iter().map(|p| format!("arn:aws:s3:::{name}/{}", prefix_pattern(p))).collect();
        statements.push(json!({"Sid": PUBLIC_READ_SID, "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": resources}));
    }
    if statements.is_empty() {
        return None;
    }
    let version = file.and_then(|f| f.get("Version")).cloned().unwrap_or_else(|| json!("2012-10-17"));
    Some(crate::policy::normalize(&json!({"Version": version, "Statement": statements})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_prefixes_become_one_get_object_statement_beside_the_files() {
        let file = json!({"Version": "2012-10-17", "Statement": {"Sid": "ci", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"}});
        let doc = bucket_policy("b", Some(&file), &["models/".into(), "zips/*".into()]).unwrap();
        let stmts = doc["Statement"].as_array().unwrap();
        assert_eq!(stmts.len(), 2);
        let public = stmts.iter().find(|s| s["Sid"] == PUBLIC_READ_SID).unwrap();
        // Normalised as every policy gantry compares: actions lowercased, lists.
        assert_eq!(public["Action"], json!(["s3:getobject"]));
        assert_eq!(public["Resource"], json!(["arn:aws:s3:::b/models/*", "arn:aws:s3:::b/zips/*"]));
        assert_eq!(bucket_policy("b", None, &[]), None);
    }

    #[test]
    fn lifecycle_rules_survive_the_sdk_shape() {
        let r = LifecycleRule {
            id: "tmp".into(),
            prefix: "tmp/".into(),
            expire_after_days: Some(7),
            noncurrent_expire_after_days: Some(30),
            abort_incomplete_multipart_after_days: Some(1),
        };
        assert_eq!(LifecycleRule::from_sdk(&r.to_sdk().unwrap()), r);
        let bare = LifecycleRule {
            id: "all".into(),
            prefix: String::new(),
            expire_after_days: None,
            noncurrent_expire_after_days: Some(90),
            abort_incomplete_multipart_after_days: None,
        };
        assert_eq!(LifecycleRule::from_sdk(&bare.to_sdk().unwrap()), bare);
    }
}
