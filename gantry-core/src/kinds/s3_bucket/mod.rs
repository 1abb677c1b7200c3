//! `s3_bucket`: an S3 bucket with versioning, default encryption, Block
//! Public Access (all blocked unless the block says otherwise), a bucket
//! policy (linted), public read of named prefixes as an explicit, reviewed
//! choice, lifecycle rules and tags. `data "s3_bucket"` looks up a bucket
//! gantry does not manage.
//!
//! ```hcl
//! s3_bucket "models" {
//!   versioning           = true
//!   public_read_prefixes = ["models/"]
//!   public_access_block {
//!     block_public_policy     = false
//!     restrict_public_buckets = false
//!   }
//!   lifecycle_rule {
//!     id                           = "old-versions"
//!     noncurrent_expire_after_days = 30
//!   }
//! }
//! ```

pub mod settings;
pub mod spec;

use crate::core::schema::{HasSchema, Schema};
use crate::core::{default_attr, Action, AttrChange, Diagnostic, Env, Field, State};
use serde_json::{json, Value};
use settings::PublicAccess;
use spec::Spec;

/// What the broadening review and the notes read of a desired or live
/// bucket (absent fields: none; a state that does not read: `None`).
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct BucketAccess {
    policy: Option<Value>,
    public_access_block: Option<PublicAccess>,
    versioning: bool,
}

fn bucket(state: &State) -> Option<BucketAccess> {
    crate::kinds::common::read_desired(state).ok()
}

/// The `s3_bucket` kind.
pub struct S3Bucket;

static FIELDS: &[Field] = &[
    Field::replace("name"),
    Field::new("versioning"),
    Field::new("encryption"),
    Field::new("public_access_block"),
    Field::new("policy"),
    Field::new("lifecycle_rules"),
    Field::new("force_delete"),
    Field::new("tags"),
];

/// S3's bucket naming rules for general purpose buckets.
pub fn name_problem(name: &str) -> Option<&'static str> {
    let chars_ok = name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    let ends_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ip_like = name.split('.').count() == 4 && name.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    match () {
        _ if !(3..=63).contains(&name.len()) => Some("3-63 characters"),
        _ if !chars_ok => Some("lowercase letters, digits, dots and hyphens only"),
        _ if !ends_ok(name.chars().next()) || !ends_ok(name.chars().last()) => Some("begins and ends with a letter or digit"),
        _ if name.contains("..") => Some("no two adjacent dots"),
        _ if ip_like => Some("not formatted as an IP address"),
        _ if ["xn--", "sthree-", "amzn-s3-demo-"].iter().any(|p| name.starts_with(p)) => Some("a reserved prefix (xn--, sthree-, amzn-s3-demo-)"),
        _ if ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"].iter().any(|s| name.ends_with(s)) => Some("a reserved suffix"),
        _ => None,
    }
}

impl crate::core::TypedKind for S3Bucket {
    type Spec = Spec;

    fn name(&self) -> &'static str {
        "s3_bucket"
    }

    fn doc(&self) -> &'static str {
        "An S3 bucket in the stack's region. The name forces replacement (and is global: another account's bucket of that name is refused at plan); everything else is updated in place."
    }

    fn schema(&self) -> &'static Schema {
        &Spec::SCHEMA
    }

    fn fields(&self) -> &'static [Field] {
        FIELDS
    }

    fn fill_defaults(&self, label: &str, _env: &Env, attrs: &mut State) {
        default_attr(attrs, "name", label);
    }

    fn check(&self, spec: &Spec) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let name = &spec.name;
        if let Some(why) = name_problem(name) {
            out.push(Diagnostic::attr("name", format!("\"{name}\" is not a valid S3 bucket name ({why})")));
        }
        if spec.kms_key.is_some() && spec.encryption.as_deref() != Some("aws:kms") {
            out.push(Diagnostic::attr("kms_key", "kms_key needs encryption = \"aws:kms\""));
        }
        let prefixes = &spec.public_read_prefixes;
        for p in prefixes {
            if p.trim_end_matches('*').is_empty() || p.starts_with('/') {
                out.push(Diagnostic::attr("public_read_prefixes", format!("\"{p}\" would make the whole bucket public: name a prefix such as \"models/\"")));
            }
        }
        let pab = spec.public_access();
        if !prefixes.is_empty() && (pab.block_public_policy || pab.restrict_public_buckets) {
            out.push(Diagnostic::attr(
                "public_read_prefixes",
                "a public prefix needs public_access_block { block_public_policy = false, restrict_public_buckets = false } written in the block (S3 refuses or ignores a public policy otherwise)",
            ));
        }
        let rules = spec.lifecycle_rules();
        for (i, r) in rules.iter().enumerate() {
            if r.expire_after_days.is_none() && r.noncurrent_expire_after_days.is_none() && r.abort_incomplete_multipart_after_days.is_none() {
                out.push(Diagnostic::attr(
                    "lifecycle_rule",
                    format!("rule \"{}\" needs an expiry (expire_after_days, noncurrent_expire_after_days or abort_incomplete_multipart_after_days)", r.id),
                ));
            }
            if rules[..i].iter().any(|o| o.id == r.id) {
                out.push(Diagnostic::attr("lifecycle_rule", format!("two rules have the id \"{}\"", r.id)));
            }
        }
        if rules.len() > 1000 {
            out.push(Diagnostic::attr("lifecycle_rule", "S3 allows at most 1,000 lifecycle rules per bucket"));
        }
        out.extend(crate::kinds::common::aws_tags::check(&spec.tags));
        if spec.policy_file.as_ref().is_some_and(|p| !p.is_object()) {
            out.push(Diagnostic::attr("policy_file", "the policy document must be a JSON object"));
        }
        out
    }

    fn identity(&self, spec: &Spec) -> String {
        spec.name.clone()
    }

    fn outputs(&self, spec: &Spec, _attrs: &State, env: &Env) -> State {
        let name = &spec.name;
        let mut out = State::new();
        out.insert("name".into(), json!(name));
        out.insert("arn".into(), json!(format!("arn:aws:s3:::{name}")));
        out.insert("region".into(), json!(env.region));
        out.insert("bucket_regional_domain_name".into(), json!(format!("{name}.s3.{}.amazonaws.com", env.region)));
        out
    }

    fn desired_state(&self, spec: &Spec, _env: &Env) -> State {
        spec.desired().to_state()
    }

    /// Who the bucket policy newly lets in (anyone, for a public prefix), and
    /// Block Public Access switches turned off.
    fn broadening(&self, before: Option<&State>, after: &State) -> Vec<String> {
        let policy = |s: &State| bucket(s).and_then(|d| d.policy);
        let mut out = crate::policy::access::resource_policy_widening(before.and_then(policy).as_ref(), policy(after).as_ref(), "the bucket");
        let pab = |s: &State| bucket(s).and_then(|d| d.public_access_block);
        // A new bucket starts with every switch on (S3's default since April 2023).
        let was = before.map(|b| pab(b).unwrap_or_else(PublicAccess::open)).unwrap_or_else(PublicAccess::blocked);
        if let Some(now) = pab(after) {
            for (what, w, n) in [
                ("block_public_acls", was.block_public_acls, now.block_public_acls),
                ("ignore_public_acls", was.ignore_public_acls, now.ignore_public_acls),
                ("block_public_policy", was.block_public_policy, now.block_public_policy),
                ("restrict_public_buckets", was.restrict_public_buckets, now.restrict_public_buckets),
            ] {
                if w && !n {
                    out.push(format!("Block Public Access: {what} turned off"));
                }
            }
        }
        out
    }

    fn change_notes(&self, action: Action, changes: &[AttrChange], desired: &State) -> Vec<String> {
        let suspends = action == Action::Update && changes.iter().any(|c| c.name == "versioning") && bucket(desired).is_some_and(|d| !d.versioning);
        let mut out = Vec::new();
        if suspends {
            out.push("versioning is suspended, not removed: versions already stored stay (and are billed) until a lifecycle rule expires them".into());
        }
        out
    }

    fn lint(&self, spec: &Spec, _env: &Env) -> Vec<crate::lint::Finding> {
        spec.policy_file.as_ref().map(|doc| crate::lint::lint_bucket_policy(doc, "policy_file")).unwrap_or_default()
    }
}
