//! A lifecycle rule to and from the S3 SDK's shape (the driver's API
//! speaks gantry's [`LifecycleRule`]; only this file knows S3's).

use super::settings::LifecycleRule;
use aws_sdk_s3::types as s3;

/// S3's rule as read. A rule filtered on tags or sizes has no place in
/// this shape; its prefix (if any) is kept and the difference shows as
/// an update that rewrites the rule.
pub(super) fn from_sdk(r: &s3::LifecycleRule) -> LifecycleRule {
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

/// The rule as S3 takes it (enabled, filtered on its prefix).
pub(super) fn to_sdk(rule: &LifecycleRule) -> Result<s3::LifecycleRule, aws_smithy_types::error::operation::BuildError> {
    let mut b =
        s3::LifecycleRule::builder().id(&rule.id).status(s3::ExpirationStatus::Enabled).filter(s3::LifecycleRuleFilter::builder().prefix(&rule.prefix).build());
    if let Some(d) = rule.expire_after_days {
        b = b.expiration(s3::LifecycleExpiration::builder().days(d).build());
    }
    if let Some(d) = rule.noncurrent_expire_after_days {
        b = b.noncurrent_version_expiration(s3::NoncurrentVersionExpiration::builder().noncurrent_days(d).build());
    }
    if let Some(d) = rule.abort_incomplete_multipart_after_days {
        b = b.abort_incomplete_multipart_upload(s3::AbortIncompleteMultipartUpload::builder().days_after_initiation(d).build());
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_rules_survive_the_sdk_shape() {
        let r = LifecycleRule {
            id: "tmp".into(),
            prefix: "tmp/".into(),
            expire_after_days: Some(7),
            noncurrent_expire_after_days: Some(30),
            abort_incomplete_multipart_after_days: Some(1),
        };
        assert_eq!(from_sdk(&to_sdk(&r).unwrap()), r);
        let bare = LifecycleRule {
            id: "all".into(),
            prefix: String::new(),
            expire_after_days: None,
            noncurrent_expire_after_days: Some(90),
            abort_incomplete_multipart_after_days: None,
        };
        assert_eq!(from_sdk(&to_sdk(&bare).unwrap()), bare);
    }
}
