//! The `stack` block: name, AWS region(s), Google Cloud project and zones,
//! the shared-lock backend. Evaluated with variables only, before any
//! resource, so a command knows where to connect without evaluating more.

use super::expr::{base_context, to_hcl};
use super::{span_of, Loader};
use crate::config::diag::{Diagnostic, FileId, SrcSpan};
use crate::core::schema::{Attr, DefaultValue, NestedBlock, Schema, Ty};
use crate::core::{BackendConfig, Env};
use hcl_edit::structure::Block;
use hcl_edit::Span;
use serde_json::Value;
use std::path::Path;

pub use crate::core::OFFLINE_ACCOUNT_ID;
/// The Google Cloud project number offline (`validate`), as the AWS account's.
pub(super) const OFFLINE_PROJECT_NUMBER: &str = "000000000000";

/// What the `stack` block says.
#[derive(Debug, Clone, PartialEq)]
pub struct StackSettings {
    /// The stack's name: the block label, `-<workspace>` appended.
    pub name: String,
    /// `default`, or the `--workspace` given.
    pub workspace: String,
    /// `aws { region }`.
    pub aws_region: Option<String>,
    /// Other regions the stack manages.
    pub extra_regions: Vec<String>,
    /// `gcp { project }`.
    pub gcp_project: Option<String>,
    /// Zones from `gcp { zones }`.
    pub gcp_zones: Vec<String>,
    /// `backend "s3" { }`: the shared lock.
    pub backend: Option<BackendConfig>,
    /// `aws { allowed_account_ids }`: plan and apply refuse other accounts.
    pub allowed_account_ids: Vec<String>,
    /// `max_hourly_cost`: plan refuses a stack whose machines could cost more per hour.
    pub max_hourly_cost: Option<f64>,
}

impl StackSettings {
    /// The facts evaluation sees.
    pub fn env(&self, dir: &Path, account_id: Option<&str>, project_number: Option<&str>) -> Env {
        Env {
            stack: self.name.clone(),
            region: self.aws_region.clone().unwrap_or_default(),
            account_id: account_id.unwrap_or(OFFLINE_ACCOUNT_ID).to_string(),
            dir: dir.to_path_buf(),
            regions: self.aws_region.iter().cloned().chain(self.extra_regions.iter().cloned()).collect(),
            gcp_project: self.gcp_project.clone().unwrap_or_default(),
            gcp_project_number: project_number.unwrap_or(OFFLINE_PROJECT_NUMBER).to_string(),
            workspace: self.workspace.clone(),
        }
    }
}

impl Loader<'_> {
    /// Reads the single `stack` block.
    pub(super) fn stack_block(&mut self, blocks: &[(FileId, &Block)], vars: &serde_json::Map<String, Value>) -> Option<StackSettings> {
        let Some(&(file, b)) = blocks.first() else {
            if self.broken.iter().any(|x| x.ident == "stack") {
                return None; // its syntax error says it all
            }
            // A syntax error (an unclosed brace) may have swallowed a stack block the file has.
            let written = |t: &str| t.lines().any(|l| l.trim_start().strip_prefix("stack").is_some_and(|r| r.starts_with([' ', '"', '{'])));
            if self.diags.has_errors() && self.sources.ids().any(|id| written(self.sources.text(id))) {
                return None;
            }
            let read: Vec<String> = self.sources.ids().filter_map(|id| self.sources.path(id).file_name().map(|n| n.to_string_lossy().into_owned())).collect();
            let read = if read.is_empty() { "no *.gantry.hcl file was found".to_string() } else { format!("read: {}", read.join(", ")) };
            self.diags.push(
                Diagnostic::error("no `stack` block found", None).with_note(format!("add one: stack \"NAME\" {{ aws {{ region = \"us-west-2\" }} }} ({read})")),
            );
            return None;
        };
        for &(f2, b2) in &blocks[1..] {
            self.diags.push(
                Diagnostic::error("only one `stack` block is allowed per directory", span_of(f2, b2.ident.span()))
                    .with_related(SrcSpan { file, range: b.ident.span().unwrap_or(0..0) }, "first stack block"),
            );
        }
        let span = span_of(file, b.ident.span());
        if b.labels.len() != 1 {
            self.diags.push(Diagnostic::error("the stack block takes exactly one label: stack \"NAME\" { ... }", span));
            return None;
        }
        let name = b.labels[0].as_str().to_string();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') || name.len() > 64 {
            self.diags.push(
                Diagnostic::error(format!("invalid stack name \"{name}\""), span_of(file, b.labels[0].span()))
                    .with_note("use up to 64 letters, digits, - and _ (it becomes part of tags and IAM paths)"),
            );
        }
        let mut workspace = "default".to_string();
        let mut name = name;
        if let Some(ws) = self.opts.workspace.clone() {
            if ws.is_empty() || ws.len() > 32 || ws == "default" || !ws.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
                self.diags.push(Diagnostic::error(
                    format!("invalid workspace \"{ws}\": use up to 32 lowercase letters, digits and - (\"default\" is the workspace without one)"),
                    None,
                ));
            } else {
                // Another environment from the same files: its own stack, so
                // ownership, derived names and the lock never meet the other's.
                name = format!("{name}-{ws}");
                workspace = ws;
            }
        }
        let mut ctx = base_context();
        ctx.declare_var("var", hcl::Value::Object(vars.iter().map(|(k, v)| (k.clone(), to_hcl(v))).collect()));
        let attrs = self.eval_body(file, &b.body, &STACK_SCHEMA, &ctx, &[], span.clone());
        // The schema checked every type: the block reads into its shape.
        let block: StackBlock = serde_json::from_value(Value::Object(attrs)).unwrap_or_default();
        let aws = block.aws.unwrap_or_default();
        let region = aws.region;
        let extra: Vec<String> = aws.extra_regions.into_iter().filter(|r| Some(r) != region.as_ref()).collect();
        let backend = block.backend.map(|b| BackendConfig {
            bucket: b.bucket,
            key: b.key.unwrap_or_else(|| format!("gantry/{name}/lock")),
            region: b.region.or_else(|| region.clone()),
        });
        let gcp = block.gcp.unwrap_or_default();
        let (project, zones, allowed_account_ids) = (gcp.project, gcp.zones, aws.allowed_account_ids);
        for id in allowed_account_ids.iter().filter(|id| id.len() != 12 || !id.chars().all(|c| c.is_ascii_digit())) {
            self.diags.push(Diagnostic::error(format!("allowed_account_ids: \"{id}\" is not a 12-digit AWS account id"), span.clone()));
        }
        let max_hourly_cost = block.max_hourly_cost;
        if max_hourly_cost.is_some_and(|m| !(m.is_finite() && m > 0.0)) {
            self.diags.push(Diagnostic::error("max_hourly_cost is an amount per hour above 0", span.clone()));
        }
        Some(StackSettings {
            name,
            workspace,
            aws_region: region,
            extra_regions: extra,
            gcp_project: project,
            gcp_zones: zones,
            backend,
            allowed_account_ids,
            max_hourly_cost,
        })
    }
}

static STACK_SCHEMA: Schema = Schema {
    attrs: &[Attr::new(
        "max_hourly_cost",
        Ty::Number,
        "Plan refuses changes after which the stack's machines could cost more than this per hour (its cost ceiling, in the price book's currency).",
    )],
    blocks: &[
        NestedBlock {
            name: "backend",
            schema: &BACKEND_SCHEMA,
            repeated: false,
            implied: false,
            doc: "Shared lock for CI: backend \"s3\" { bucket, key, region }.",
        },
        NestedBlock { name: "aws", schema: &AWS_SCHEMA, repeated: false, implied: false, doc: "AWS settings for this stack." },
        NestedBlock { name: "gcp", schema: &GCP_SCHEMA, repeated: false, implied: false, doc: "Google Cloud settings for this stack." },
    ],
};
static BACKEND_SCHEMA: Schema = Schema {
    attrs: &[
        Attr::new("bucket", Ty::String, "S3 bucket holding the lock object.").required(),
        Attr::new("key", Ty::String, "Object key (default gantry/<stack>/lock)."),
        Attr::new("region", Ty::String, "Bucket region (default: the stack's)."),
    ],
    blocks: &[],
};

static AWS_SCHEMA: Schema = Schema {
    attrs: &[
        Attr::new("region", Ty::String, "AWS region, e.g. us-west-2.").required(),
        Attr::new("extra_regions", Ty::ListOfString, "Other regions the stack manages (agent queues).").default(DefaultValue::EmptyList),
        Attr::new("allowed_account_ids", Ty::ListOfString, "AWS accounts plan and apply may run in (any other is refused).").default(DefaultValue::EmptyList),
    ],
    blocks: &[],
};
static GCP_SCHEMA: Schema = Schema {
    attrs: &[
        Attr::new("project", Ty::String, "Google Cloud project id.").required(),
        Attr::new("zones", Ty::ListOfString, "Zones to read besides those in the files (to find nodes whose blocks were removed).")
            .default(DefaultValue::EmptyList),
    ],
    blocks: &[],
};

/// The evaluated `stack { }` block ([`STACK_SCHEMA`]).
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct StackBlock {
    aws: Option<AwsBlock>,
    gcp: Option<GcpBlock>,
    backend: Option<BackendBlock>,
    max_hourly_cost: Option<f64>,
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct AwsBlock {
    region: Option<String>,
    extra_regions: Vec<String>,
    allowed_account_ids: Vec<String>,
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct GcpBlock {
    project: Option<String>,
    zones: Vec<String>,
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct BackendBlock {
    bucket: String,
    key: Option<String>,
    region: Option<String>,
}
