//! A bucket's settings as typed values: what the block asks for, what the
//! driver reads back, and the one place each becomes S3's shape. The
//! desired and live states hold them serialised, so they compare field by
//! field.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Default encryption of new objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// `AES256` (SSE-S3) or `aws:kms` (SSE-KMS).
    pub algorithm: String,
    /// The KMS key with `aws:kms` (none: the AWS managed key).
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
pub struct PublicAccess {
    /// Refuse requests that set a public ACL.
    pub block_public_acls: bool,
    /// Ignore public ACLs already on the bucket and its objects.
    pub ignore_public_acls: bool,
    /// Refuse a bucket policy that grants public access.
    pub block_public_policy: bool,
    /// Serve a public policy's access only to AWS services and the owner account.
    pub restrict_public_buckets: bool,
}

impl PublicAccess {
    /// A bucket without a Block Public Access configuration.
    pub fn open() -> Self {
        PublicAccess { block_public_acls: false, ignore_public_acls: false, block_public_policy: false, restrict_public_buckets: false }
    }

    /// Every switch on: what S3 gives a new bucket.
    pub fn blocked() -> Self {
        PublicAccess { block_public_acls: true, ignore_public_acls: true, block_public_policy: true, restrict_public_buckets: true }
    }
}

/// One lifecycle rule, scoped by key prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleRule {
    /// The rule's ID (unique in the bucket).
    pub id: String,
    /// The key prefix it applies to (empty: every object).
    pub prefix: String,
    /// Days after which current versions expire.
    pub expire_after_days: Option<i32>,
    /// Days after which noncurrent versions are deleted.
    pub noncurrent_expire_after_days: Option<i32>,
    /// Days after which an unfinished multipart upload is aborted.
    pub abort_incomplete_multipart_after_days: Option<i32>,
}

/// Lifecycle rules in a stable order (S3 keeps them as written; the order
/// carries no meaning).
pub fn sorted(mut rules: Vec<LifecycleRule>) -> Vec<LifecycleRule> {
    rules.sort_by(|a, b| a.id.cmp(&b.id));
    rules
}

/// The statement id of the public read gantry writes for `public_read_prefixes`.
pub const PUBLIC_READ_SID: &str = "GantryPublicRead";

/// A prefix as a key pattern: `models/` and `models/*` both mean every key
/// under models/.
pub fn prefix_pattern(prefix: &str) -> String {
    format!("{}*", prefix.trim_end_matches('*'))
}

/// The bucket policy: the file's statements plus, for public prefixes, one
/// statement letting anyone get their objects (and nothing else).
pub fn bucket_policy(name: &str, file: Option<&Value>, public_prefixes: &[String]) -> Option<Value> {
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
}
