//! Every integration test in one binary: one link of the crate and its SDKs
//! instead of one per file (CI time), and the tests of all files share the
//! runner's threads.

mod support;

mod broadening_moto;
mod cli;
mod cli_snapshots;
mod cli_terraform;
mod config;
mod cost_moto;
mod data_moto;
mod dist;
mod ecr_moto;
mod ecr_public_moto;
mod engine_fake;
mod faults_moto;
mod gcp_fake;
mod gcp_identity;
mod generated_lint;
mod github_trust;
mod lint_corpus;
mod lock_s3;
mod malformed;
mod managed_policies_moto;
mod mutations;
mod oidc_moto;
mod outputs_moto;
mod ownership_collisions;
mod ownership_moto;
mod permissions;
mod plan_safety;
mod plan_tampering;
mod prices_moto;
mod protect_moto;
mod queues_moto;
mod read_scope;
mod runner_wake;
mod runners_moto;
mod s3_moto;
mod scaler_build;
mod sensitive;
mod sensitive_flows;
mod signals;
mod simulate;
mod stacks;
mod workspaces;
